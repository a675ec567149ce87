import type { HeaderRow } from "../provider-form-values";
import { FieldError } from "../../../components/field-error";

/** Extra headers sent upstream; a credential header's value shows as its label, which, sent
 * back unchanged, keeps the value. */
export function HeaderRows({
  rows,
  onChange,
  error,
}: {
  rows: HeaderRow[];
  onChange: (rows: HeaderRow[]) => void;
  error: string | undefined;
}) {
  const update = (index: number, change: Partial<HeaderRow>) => { onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row))); };
  return (
    <fieldset className="form-group">
      <legend>Headers</legend>
      {rows.map((row, index) => (
        <div className="form-row" key={index}>
          <input
            aria-label={`Header ${index + 1} name`}
            value={row.name}
            onChange={(event) => { update(index, { name: event.target.value }); }}
          />
          <input
            aria-label={`Header ${index + 1} value`}
            value={row.value}
            onChange={(event) => { update(index, { value: event.target.value }); }}
          />
          <button type="button" onClick={() => { onChange(rows.filter((_, i) => i !== index)); }}>
            Remove header {index + 1}
          </button>
        </div>
      ))}
      <button type="button" onClick={() => { onChange([...rows, { name: "", value: "" }]); }}>
        Add a header
      </button>
      <FieldError id="provider-headers-error" message={error} />
    </fieldset>
  );
}
