import { useState, type SubmitEvent } from "react";

import type { ChainEntry } from "../../../api/chain-types";
import { useSaveChain } from "../api/save-chain";
import { parseNewChain } from "../chain-form-values";
import { EntryPicker } from "./entry-picker";
import { SortableEntries } from "./sortable-entries";

export function NewChainForm({ etag, onDone }: { etag: string | null; onDone: () => void }) {
  const [name, setName] = useState("");
  const [entries, setEntries] = useState<ChainEntry[]>([]);
  const [errors, setErrors] = useState<Partial<Record<"name" | "entries" | "form", string>>>({});
  const save = useSaveChain();

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
        onError: (error) => { setErrors({ form: error.message }); },
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
