import { useState } from "react";

import { useProviderModels } from "../../../api/get-provider-models";

/** Above this many models, a filter box narrows the list. */
const FILTER_FROM = 8;

/** What to check when a provider's model list cannot be had. */
export const UNREACHABLE_HINT =
  "Check the provider's base URL and key (Edit), and that the proxy can reach it.";

/** The ids that contain `filter` (any case). */
export function filterModels(ids: readonly string[], filter: string): string[] {
  const wanted = filter.trim().toLowerCase();
  return wanted === "" ? [...ids] : ids.filter((id) => id.toLowerCase().includes(wanted));
}

/** A provider's models, read from it when shown (each read asks the provider: never on page
 * load), with their count, a filter when there are many, or why they could not be had. */
export function ProviderModels({ provider }: { provider: string }) {
  const models = useProviderModels(provider);
  const [filter, setFilter] = useState("");
  if (models.isPending) {
    return <p role="status">Asking {provider} for its models…</p>;
  }
  if (models.error !== null) {
    return (
      <div role="alert">
        <p className="form-error">
          Could not list the models of {provider}: {models.error.message}
        </p>
        <p className="muted">{UNREACHABLE_HINT}</p>
      </div>
    );
  }
  const ids = models.data.models.map((model) => model.id);
  const shown = filterModels(ids, filter);
  const fetched = new Date(models.data.fetchedAt).toLocaleTimeString();
  return (
    <div className="provider-models">
      <p>
        {ids.length === 1 ? "1 model" : `${ids.length.toLocaleString("en-US")} models`} offered by{" "}
        {provider} <span className="muted">(read at {fetched}, kept a few minutes)</span>
      </p>
      {ids.length >= FILTER_FROM && (
        <div className="form-row">
          <label htmlFor={`models-filter-${provider}`}>Filter models</label>
          <input
            id={`models-filter-${provider}`}
            type="search"
            value={filter}
            onChange={(event) => { setFilter(event.target.value); }}
          />
        </div>
      )}
      {ids.length === 0 ? (
        <p className="muted">The provider lists no model: type the model's id in a chain entry.</p>
      ) : shown.length === 0 ? (
        <p className="muted">No model id contains “{filter}”.</p>
      ) : (
        <ul className="provider-model-list" aria-label={`Models of ${provider}`} tabIndex={0}>
          {shown.map((id) => (
            <li key={id}>{id}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
