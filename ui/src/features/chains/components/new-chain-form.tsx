import { useState, type SubmitEvent } from "react";

import type { ChainEntry } from "../../../api/chain-types";
import { ApiError } from "../../../lib/api-error";
import { useSaveChain } from "../api/save-chain";
import { limitErrorAt, parseNewChain, withLimits } from "../chain-form-values";
import { EntryPicker } from "./entry-picker";
import { SortableEntries } from "./sortable-entries";

export function NewChainForm({ etag, onDone }: { etag: string | null; onDone: () => void }) {
  const [name, setName] = useState("");
  const [entries, setEntries] = useState<ChainEntry[]>([]);
  const [errors, setErrors] = useState<Partial<Record<"name" | "entries" | "form", string>>>({});
  const save = useSaveChain();
  const refusal = save.error instanceof ApiError ? limitErrorAt(save.error.field) : null;

  function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = parseNewChain({ name, entries });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    save.mutate(
      { ...result.chain, creating: true, etag },
      {
        onSuccess: onDone,
        onError: (error) => {
          if (!(error instanceof ApiError) || limitErrorAt(error.field) === null) {
            setErrors({ form: error.message });
          }
        },
      },
    );
  }

  return (
    <form className="form-panel" aria-label="New chain" onSubmit={submit} noValidate>
      <h2>New chain</h2>
      <div className="form-field">
        <label htmlFor="chain-name">Chain name</label>
        <input id="chain-name" value={name} onChange={(event) => { setName(event.target.value); }} />
        {errors.name !== undefined && <p className="form-error" role="alert">{errors.name}</p>}
      </div>
      {entries.length === 0 && (
        <p className="muted">
          No entries yet: pick a provider and a model below, then Add entry. The chain tries them
          in the order added; drag to change it.
        </p>
      )}
      <SortableEntries
        label="Entries of the new chain"
        entries={entries}
        onReorder={setEntries}
        onRemove={(index) => { setEntries(entries.filter((_, i) => i !== index)); }}
        limits={{
          apply: (index, limits, done) => {
            setEntries(withLimits(entries, index, limits));
            done();
          },
          errors: refusal === null || save.error === null ? null : { ...refusal, message: save.error.message },
          pending: save.isPending,
        }}
      />
      <EntryPicker entries={entries} onAdd={(entry) => { setEntries([...entries, entry]); }} />
      {errors.entries !== undefined && <p className="form-error" role="alert">{errors.entries}</p>}
      {errors.form !== undefined && <p className="form-error" role="alert">{errors.form}</p>}
      <div className="form-actions">
        <button type="submit" disabled={save.isPending}>
          Create chain
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
