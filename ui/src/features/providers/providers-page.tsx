import "../../components/form-styles.css";

import { useState } from "react";

import { useProviders } from "./api/get-providers";
import type { ProviderView } from "./api/provider-types";
import { ProviderForm } from "./components/provider-form";
import { ProviderTable } from "./components/provider-table";
import { emptyProviderValues, providerValues } from "./provider-form-values";

type Editing = { kind: "none" } | { kind: "new" } | { kind: "edit"; provider: ProviderView };

export default function ProvidersPage() {
  const providers = useProviders();
  const [editing, setEditing] = useState<Editing>({ kind: "none" });
  const list = providers.data?.data.providers ?? [];
  const etag = providers.data?.etag ?? null;
  const close = () => { setEditing({ kind: "none" }); };

  return (
    <section>
      <h1>Providers</h1>
      <p className="muted">Add, edit and remove providers and their keys and limits.</p>
      {providers.isPending && <p>Loading providers…</p>}
      {providers.error !== null && (
        <p className="form-error" role="alert">
          {providers.error.message}
        </p>
      )}
      {providers.isSuccess && list.length === 0 && (
        <p className="form-empty">
          No provider yet. Add one with its type and key; then put it in a chain on the Chains page.
        </p>
      )}
      {list.length > 0 && (
        <ProviderTable
          providers={list}
          etag={etag}
          onEdit={(provider) => { setEditing({ kind: "edit", provider }); }}
        />
      )}
      {editing.kind === "none" && (
        <button type="button" onClick={() => { setEditing({ kind: "new" }); }}>
          Add a provider
        </button>
      )}
      {editing.kind === "new" && (
        <ProviderForm
          initial={emptyProviderValues()}
          existingId={null}
          keysBefore={0}
          etag={etag}
          onDone={close}
        />
      )}
      {editing.kind === "edit" && (
        <ProviderForm
          key={editing.provider.id}
          initial={providerValues(editing.provider)}
          existingId={editing.provider.id}
          keysBefore={editing.provider.keys.length}
          etag={etag}
          onDone={close}
        />
      )}
    </section>
  );
}
