import { FieldError } from "../../../components/field-error";
import type { SettingField } from "../api/setting-types";
import { amountInWords, defaultInWords, type TypedSetting } from "../settings-form-values";
import { KeyInputs } from "./key-inputs";
import { SettingDescription } from "./setting-description";

export interface SettingInputProps {
  field: SettingField;
  value: TypedSetting;
  /** The labels of a key setting's current keys. */
  labels: string[];
  /** The chains `defaultChain` may name. */
  chains: string[];
  error: string | undefined;
  /** Saved by the last change, but the proxy runs with the previous value until a restart. */
  pending: boolean;
  onChange: (value: TypedSetting) => void;
}

/** One setting: its name as the file spells it, what it means, its default, whether it waits
 * for a restart, its input and the error that points at it. */
export function SettingInput(props: SettingInputProps) {
  const { field, value, labels, chains, error, pending, onChange } = props;
  const id = `setting-${field.name}`;
  const about = `${id}-about`;
  const describedBy = error === undefined ? about : `${about} ${id}-error`;
  const common = {
    id,
    "aria-describedby": describedBy,
    "aria-invalid": error !== undefined,
  };
  const words = typeof value === "string" && field.kind === "integer" ? amountInWords(field.name, value) : "";

  function input() {
    if (field.kind === "keys") {
      return (
        <KeyInputs
          name={field.name}
          labels={labels}
          rows={Array.isArray(value) ? value : []}
          describedBy={describedBy}
          onChange={onChange}
        />
      );
    }
    if (field.kind === "boolean") {
      return (
        <input
          {...common}
          type="checkbox"
          checked={value === true}
          onChange={(event) => { onChange(event.target.checked); }}
        />
      );
    }
    const text = typeof value === "string" ? value : "";
    const choices = field.kind === "choice" ? (field.choices ?? []) : field.name === "defaultChain" ? chains : null;
    if (choices !== null && choices.length > 0) {
      const options = choices.includes(text) ? choices : [text, ...choices];
      return (
        <select {...common} value={text} onChange={(event) => { onChange(event.target.value); }}>
          {options.map((choice) => (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ))}
        </select>
      );
    }
    if (field.kind === "list") {
      return (
        <textarea
          {...common}
          rows={Math.max(2, text.split("\n").length)}
          placeholder="one per line"
          value={text}
          onChange={(event) => { onChange(event.target.value); }}
        />
      );
    }
    return (
      <span className="setting-value">
        <input
          {...common}
          inputMode={field.kind === "integer" ? "numeric" : undefined}
          placeholder={field.required ? "" : defaultInWords(field)}
          value={text}
          onChange={(event) => { onChange(event.target.value); }}
        />
        {words !== "" && <span className="muted">= {words}</span>}
      </span>
    );
  }

  return (
    <div className="setting" data-setting={field.name}>
      <div className="setting-name">
        {field.kind === "keys" ? (
          <span className="setting-label" id={`${id}-label`}>
            <code>{field.name}</code>
          </span>
        ) : (
          <label className="setting-label" htmlFor={id}>
            <code>{field.name}</code>
          </label>
        )}
        {field.setByEnvironment && (
          <span className="setting-badge">set by {field.variable}</span>
        )}
        {field.restartRequired && (
          <span className={pending ? "setting-badge setting-badge-pending" : "setting-badge"}>
            {pending ? "saved: applies after restart" : "applies after restart"}
          </span>
        )}
      </div>
      <div className="setting-control">
        {field.setByEnvironment ? (
          <fieldset className="setting-locked" disabled>
            {input()}
          </fieldset>
        ) : (
          input()
        )}
        <p className="setting-about" id={about}>
          <SettingDescription text={field.description} />{" "}
          <span className="muted">({defaultInWords(field)})</span>
          {field.setByEnvironment && (
            <>
              {" "}
              The environment variable <code>{field.variable}</code> gives it, so the file's value
              does not apply: change it where the proxy's environment is set.
            </>
          )}
        </p>
        <FieldError id={`${id}-error`} message={error} />
      </div>
    </div>
  );
}
