import { useState } from "react";

import type { ChainEntry, ChainView } from "../../../api/chain-types";
import { useDeleteChain } from "../api/delete-chain";
import { ApiError } from "../../../lib/api-error";
import { useSaveChain } from "../api/save-chain";
import { limitErrorAt, withLimits } from "../chain-form-values";
import { EntryPicker } from "./entry-picker";
import { SortableEntries } from "./sortable-entries";

/** One chain: its entries (reordered, added, removed: each change saved at once) and its
 * removal, which the default chain does not offer. */
export function ChainCard({ chain, etag }: { chain: ChainView; etag: string | null }) {
  const save = useSaveChain();
  const remove = useDeleteChain();
  const [confirming, setConfirming] = useState(false);
  const [shown, setShown] = useState<ChainEntry[] | null>(null);
  const entries = save.isPending && shown !== null ? shown : chain.entries;

  function saveEntries(next: ChainEntry[], onSuccess: () => void = () => undefined) {
    setShown(next);
    save.mutate({ name: chain.name, entries: next, creating: false, etag }, { onSuccess });
  }

  const refusal = save.error instanceof ApiError ? limitErrorAt(save.error.field) : null;
  const error = (refusal === null ? save.error : null) ?? remove.error;
  return (
    <section className="form-panel" aria-label={`Chain ${chain.name}`}>
      <div className="form-actions">
        <h2>{chain.name}</h2>
        {chain.isDefault ? (
          <span className="chain-default">default chain: not deletable</span>
        ) : confirming ? (
          <>
            <span>Delete chain {chain.name}?</span>
            <button
              type="button"
              className="danger"
              onClick={() => { remove.mutate({ name: chain.name, etag }); }}
            >
              Yes, delete {chain.name}
            </button>
            <button type="button" onClick={() => { setConfirming(false); }}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" onClick={() => { setConfirming(true); }}>
            Delete {chain.name}
          </button>
        )}
      </div>
      <SortableEntries
        label={`Entries of ${chain.name}`}
        entries={entries}
        onReorder={(next) => { saveEntries(next); }}
        limits={{
          apply: (index, limits, done) => { saveEntries(withLimits(entries, index, limits), done); },
          errors: refusal === null || save.error === null ? null : { ...refusal, message: save.error.message },
          pending: save.isPending,
        }}
        onRemove={
          entries.length > 1
            ? (index) => { saveEntries(entries.filter((_, i) => i !== index)); }
            : null
        }
      />
      <EntryPicker entries={entries} onAdd={(entry) => { saveEntries([...entries, entry]); }} />
      {error !== null && (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      )}
    </section>
  );
}
