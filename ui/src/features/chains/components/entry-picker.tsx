import { useId, useState } from "react";

import type { ChainEntry } from "../../../api/chain-types";
import { useProviderIds } from "../../../api/get-provider-ids";
import { useProviderModels } from "../../../api/get-provider-models";
import { parseEntry } from "../chain-form-values";

/** Picks an entry: a provider, then one of the models it offers or any model typed in. */
export function EntryPicker({
  entries,
  onAdd,
}: {
  entries: readonly ChainEntry[];
  onAdd: (entry: ChainEntry) => void;
}) {
  const [provider, setProvider] = useState("");
  const [model, setModel] = useState("");
  const [error, setError] = useState<string | null>(null);
  const providers = useProviderIds();
  const models = useProviderModels(provider);
  const listId = useId();

  function add() {
    const result = parseEntry({ provider, model }, entries);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setError(null);
    setModel("");
    onAdd(result.entry);
  }

  return (
    <div className="form-group">
      <div className="form-row">
        <label htmlFor={`${listId}-provider`}>Entry provider</label>
        <select
          id={`${listId}-provider`}
          value={provider}
          onChange={(event) => { setProvider(event.target.value); }}
        >
          <option value="">pick a provider</option>
          {(providers.data ?? []).map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
        <label htmlFor={`${listId}-model`} className="chain-model-label">Model</label>
        <input
          id={`${listId}-model`}
          list={`${listId}-models`}
          value={model}
          placeholder="pick or type"
          onChange={(event) => { setModel(event.target.value); }}
        />
        <datalist id={`${listId}-models`}>
          {(models.data?.models ?? []).map((offered) => (
            <option key={offered.id} value={offered.id} />
          ))}
        </datalist>
        <button type="button" onClick={add}>
          Add entry
        </button>
      </div>
      {models.error !== null && (
        <p className="muted">Models of {provider} not listed ({models.error.message}): type one.</p>
      )}
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
