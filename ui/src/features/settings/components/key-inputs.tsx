export interface KeyInputsProps {
  name: string;
  labels: string[];
  rows: string[];
  describedBy: string;
  onChange: (rows: string[]) => void;
}

/** A key setting: its current keys as labels only (the API never shows a key), and rows for
 * new keys that, once saved, replace them all. */
export function KeyInputs({ name, labels, rows, describedBy, onChange }: KeyInputsProps) {
  return (
    <div className="setting-keys" role="group" aria-labelledby={`setting-${name}-label`}>
      <p className="setting-key-labels" id={`setting-${name}-current`}>
        {labels.length === 0 ? "No key yet." : `Current: ${labels.join(", ")}`}
      </p>
      {rows.map((row, index) => (
        <div className="form-row" key={index}>
          <label htmlFor={`setting-${name}-${index}`}>New key {index + 1}</label>
          <input
            id={`setting-${name}-${index}`}
            type="password"
            autoComplete="off"
            value={row}
            aria-describedby={describedBy}
            onChange={(event) => {
              onChange(rows.map((old, i) => (i === index ? event.target.value : old)));
            }}
          />
          <button
            type="button"
            aria-label={`Remove new key ${index + 1} of ${name}`}
            onClick={() => { onChange(rows.filter((_, i) => i !== index)); }}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        aria-describedby={`setting-${name}-current`}
        onClick={() => { onChange([...rows, ""]); }}
      >
        {rows.length === 0 ? `Replace the ${name}` : "Add another key"}
      </button>
      {rows.length > 0 && (
        <p className="muted setting-hint">
          Once saved, the new keys replace every current one; leave them blank to keep the current
          keys.{name === "adminKeys" && " Keep the key you signed in with, or you will be signed out."}
        </p>
      )}
    </div>
  );
}
