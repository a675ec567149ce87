import { LIMIT_NAMES, RATE_LIMIT_FIELDS, type LimitTexts } from "../api/manual-limits";
import { FieldError } from "./field-error";

/** A number input per manual limit (empty: not set), each with its error under it.
 * `idPrefix` keeps ids unique on a page; `errors` are keyed by field name. */
export function LimitInputs({
  idPrefix,
  values,
  errors,
  onChange,
}: {
  idPrefix: string;
  values: LimitTexts;
  errors: Partial<Record<string, string>>;
  onChange: (values: LimitTexts) => void;
}) {
  return RATE_LIMIT_FIELDS.map((field) => {
    const id = `${idPrefix}-${field}`;
    const error = errors[field];
    return (
      <div className="form-field" key={field}>
        <label htmlFor={id}>{LIMIT_NAMES[field]}</label>
        <input
          id={id}
          inputMode="numeric"
          value={values[field]}
          aria-invalid={error !== undefined}
          aria-describedby={error !== undefined ? `${id}-error` : undefined}
          onChange={(event) => { onChange({ ...values, [field]: event.target.value }); }}
        />
        <FieldError id={`${id}-error`} message={error} />
      </div>
    );
  });
}
