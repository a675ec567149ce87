import type { KeyRow } from "../provider-form-values";
import { FieldError } from "../../../components/field-error";

/** The provider's keys: each existing one by its label (the key is never shown), replaced by
 * typing a new one; more keys added, any removed. */
export function KeyRows({
  rows,
  onChange,
  error,
}: {
  rows: KeyRow[];
  onChange: (rows: KeyRow[]) => void;
  error: string | undefined;
}) {
  const update = (index: number, value: string) => { onChange(rows.map((row, i) => (i === index ? { ...row, value } : row))); };
  return (
    <fieldset className="form-group">
      <legend>Keys</legend>
      {rows.map((row, index) => (
        <div className="form-row" key={index}>
          <label htmlFor={`provider-key-${index}`}>
            {row.label === null ? `Key ${index + 1}` : `Key ${row.label}`}
          </label>
          <input
            id={`provider-key-${index}`}
            type="password"
            autoComplete="off"
            value={row.value}
            placeholder={row.label === null ? "sk-..." : "kept; type to replace"}
            onChange={(event) => { update(index, event.target.value); }}
          />
          <button type="button" onClick={() => { onChange(rows.filter((_, i) => i !== index)); }}>
            Remove key {index + 1}
          </button>
        </div>
      ))}
      <button type="button" onClick={() => { onChange([...rows, { label: null, value: "" }]); }}>
        Add a key
      </button>
      <FieldError id="provider-keys-error" message={error} />
    </fieldset>
  );
}
