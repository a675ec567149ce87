import { useId } from "react";

import type { ChainView } from "../../../api/chain-types";
import { useProviderIds } from "../../../api/get-provider-ids";
import { useProviderModels } from "../../../api/get-provider-models";
import { FieldError } from "../../../components/field-error";
import type { FieldErrors, PlaygroundValues } from "../playground-form";

function entryCount(count: number): string {
  return count === 1 ? "1 entry" : `${String(count)} entries`;
}

interface TargetFieldsProps {
  values: PlaygroundValues;
  chains: readonly ChainView[];
  errors: FieldErrors;
  onChange: (change: Partial<PlaygroundValues>) => void;
}

/** Where the prompt goes: a chain (its entries in order), or one entry, a provider and one of
 * the models it lists (or any model typed in). */
export function TargetFields({ values, chains, errors, onChange }: TargetFieldsProps) {
  const id = useId();
  const providers = useProviderIds();
  const models = useProviderModels(values.target === "entry" ? values.provider : "");

  return (
    <fieldset className="playground-target">
      <legend>Send to</legend>
      <div className="form-row">
        <label className="playground-choice">
          <input
            type="radio"
            name={`${id}-target`}
            checked={values.target === "chain"}
            onChange={() => { onChange({ target: "chain" }); }}
          />
          A chain
        </label>
        <label className="playground-choice">
          <input
            type="radio"
            name={`${id}-target`}
            checked={values.target === "entry"}
            onChange={() => { onChange({ target: "entry" }); }}
          />
          One entry
        </label>
      </div>
      {values.target === "chain" ? (
        <div className="form-field">
          <label htmlFor={`${id}-chain`}>Chain</label>
          <select
            id={`${id}-chain`}
            value={values.chain}
            aria-invalid={errors.chain !== undefined}
            aria-describedby={`${id}-chain-error`}
            onChange={(event) => { onChange({ chain: event.target.value }); }}
          >
            <option value="">pick a chain</option>
            {chains.map((chain) => (
              <option key={chain.name} value={chain.name}>
                {chain.name} ({entryCount(chain.entries.length)})
              </option>
            ))}
          </select>
          <FieldError id={`${id}-chain-error`} message={errors.chain} />
        </div>
      ) : (
        <>
          <div className="form-field">
            <label htmlFor={`${id}-provider`}>Provider</label>
            <select
              id={`${id}-provider`}
              value={values.provider}
              aria-invalid={errors.provider !== undefined}
              aria-describedby={`${id}-provider-error`}
              onChange={(event) => { onChange({ provider: event.target.value }); }}
            >
              <option value="">pick a provider</option>
              {(providers.data ?? []).map((provider) => (
                <option key={provider} value={provider}>
                  {provider}
                </option>
              ))}
            </select>
            <FieldError id={`${id}-provider-error`} message={errors.provider} />
          </div>
          <div className="form-field">
            <label htmlFor={`${id}-model`}>Model</label>
            <input
              id={`${id}-model`}
              list={`${id}-models`}
              value={values.model}
              placeholder="pick or type"
              aria-invalid={errors.model !== undefined}
              aria-describedby={`${id}-model-error`}
              onChange={(event) => { onChange({ model: event.target.value }); }}
            />
            <datalist id={`${id}-models`}>
              {(models.data?.models ?? []).map((offered) => (
                <option key={offered.id} value={offered.id} />
              ))}
            </datalist>
            <FieldError id={`${id}-model-error`} message={errors.model} />
          </div>
          {models.error !== null && (
            <p className="muted">
              The models of {values.provider} are not listed ({models.error.message}): type one.
            </p>
          )}
        </>
      )}
    </fieldset>
  );
}
