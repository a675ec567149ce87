import { useState } from "react";

import { limitTexts, type ManualLimits, type RateLimitField } from "../../../api/manual-limits";
import { LimitInputs } from "../../../components/limit-inputs";
import { parseLimits } from "../chain-form-values";

export interface EntryLimitsProps {
  /** `provider/model`, naming the entry in labels. */
  id: string;
  limits: ManualLimits | null | undefined;
  /** Puts the entry's new limits (null: none) in place; `done` closes the form once they are. */
  onApply: (limits: ManualLimits | null, done: () => void) => void;
  /** What the API said against a limit of this entry, keyed by limit. */
  apiErrors: Partial<Record<string, string>>;
  pending: boolean;
}

/** An entry's manual limits behind a "Limits" button: a number per limit, empty for none. */
export function EntryLimits({ id, limits, onApply, apiErrors, pending }: EntryLimitsProps) {
  const [open, setOpen] = useState(false);
  const [values, setValues] = useState(() => limitTexts(limits));
  const [errors, setErrors] = useState<Partial<Record<RateLimitField, string>>>({});
  const panelId = `limits-${id.replace(/[^\w-]/g, "_")}`;

  function toggle() {
    if (!open) {
      setValues(limitTexts(limits));
      setErrors({});
    }
    setOpen(!open);
  }

  function apply(next: ManualLimits | null) {
    onApply(next, () => { setOpen(false); });
  }

  function submit() {
    const result = parseLimits(values);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    apply(result.limits);
  }

  return (
    <>
      <button
        type="button"
        aria-label={`Limits of ${id}`}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={toggle}
      >
        Limits
      </button>
      {open && (
        <fieldset id={panelId} className="form-group chain-entry-limits">
          <legend>Limits of {id} (empty: not set)</legend>
          <LimitInputs
            idPrefix={panelId}
            values={values}
            errors={{ ...apiErrors, ...errors }}
            onChange={setValues}
          />
          <div className="form-actions">
            <button type="button" disabled={pending} onClick={submit}>
              Set limits of {id}
            </button>
            <button type="button" disabled={pending} onClick={() => { apply(null); }}>
              Clear limits
            </button>
            <button type="button" onClick={() => { setOpen(false); }}>
              Close
            </button>
          </div>
        </fieldset>
      )}
    </>
  );
}
