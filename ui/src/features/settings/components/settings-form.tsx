import { useState, type SubmitEvent } from "react";

import { ApiError } from "../../../lib/api-error";
import type { SettingField, SettingsView } from "../api/setting-types";
import { useUpdateSettings } from "../api/update-settings";
import {
  keyLabels,
  settingOfParam,
  settingsValues,
  toSettingsPatch,
  type FormErrors,
  type TypedSetting,
} from "../settings-form-values";
import { FieldError } from "../../../components/field-error";
import { SettingInput } from "./setting-input";

export interface SettingsFormProps {
  fields: SettingField[];
  view: SettingsView;
  etag: string | null;
  chains: string[];
  readOnly: boolean;
  /** The settings are being read again (after a save): wait for the new version. */
  refreshing: boolean;
  /** Settings saved that apply only at the next start (field paths, `settings.port`). */
  pending: string[];
  /** A change saved: the field paths (`settings.port`) of it that apply at a restart. */
  onSaved: (restartRequired: string[]) => void;
  /** The config file turned out not to be writable (a 409 on save). */
  onReadOnly: () => void;
  /** Someone else changed the configuration: read it again (the form starts over). */
  onReload: () => void;
}

/** Every setting, editable; saves only what changed, against the version it was filled from. */
export function SettingsForm(props: SettingsFormProps) {
  const { fields, view, etag, chains, readOnly } = props;
  const [initial] = useState(() => settingsValues(fields, view));
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const [stale, setStale] = useState(false);
  const update = useUpdateSettings();
  const changed = toSettingsPatch(fields, initial, values);
  const unchanged = changed.ok && Object.keys(changed.patch).length === 0;
  const busy = update.isPending || props.refreshing;

  function set(name: string, value: TypedSetting) {
    setValues((current) => ({ ...current, [name]: value }));
  }

  function refused(error: unknown) {
    if (error instanceof ApiError && error.status === 412) {
      setStale(true);
      return;
    }
    if (error instanceof ApiError && (error.code === "config_read_only" || error.code === "no_config_file")) {
      props.onReadOnly();
    }
    const field = error instanceof ApiError ? settingOfParam(error.field, fields) : "form";
    show({ [field]: error instanceof Error ? error.message : String(error) });
  }

  /** Shows `found` and brings the first setting it names into view: the form is long. */
  function show(found: FormErrors) {
    setErrors(found);
    const first = fields.find((field) => found[field.name] !== undefined);
    if (first !== undefined) {
      document.querySelector(`[data-setting="${first.name}"]`)?.scrollIntoView({ block: "center" });
    }
  }

  function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = toSettingsPatch(fields, initial, values);
    if (!result.ok) {
      show(result.errors);
      return;
    }
    setErrors({});
    // Not `mutate`'s own callbacks: a save re-reads the settings, whose new version remounts
    // this form before they would run, and a remounted form's mutation calls none of them.
    update.mutateAsync({ patch: result.patch, etag }).then(props.onSaved, refused);
  }

  return (
    <form className="form-panel settings-form" aria-label="Settings" onSubmit={submit} noValidate>
      <fieldset className="settings-fields" disabled={readOnly}>
        {fields.map((field) => (
          <SettingInput
            key={field.name}
            field={field}
            value={values[field.name] ?? ""}
            labels={keyLabels(view, field.name)}
            chains={chains}
            error={errors[field.name]}
            pending={props.pending.includes(`settings.${field.name}`)}
            onChange={(value) => { set(field.name, value); }}
          />
        ))}
      </fieldset>
      <div className="settings-footer">
        {stale && (
          <div className="settings-stale" role="alert">
            <p>
              Someone else changed the configuration since this page read it, so nothing was
              saved. Reload to see the current settings, then make your change again.
            </p>
            <button type="button" onClick={props.onReload}>
              Reload settings
            </button>
          </div>
        )}
        <FieldError id="settings-form-error" message={errors.form} />
        {!readOnly && (
          <div className="form-actions">
            <button type="submit" disabled={busy || unchanged}>
              {update.isPending ? "Saving…" : "Save settings"}
            </button>
            <button
              type="button"
              disabled={busy || unchanged}
              onClick={() => {
                setValues(initial);
                setErrors({});
              }}
            >
              Undo changes
            </button>
            {unchanged && <span className="muted">Change a setting to save it.</span>}
          </div>
        )}
      </div>
    </form>
  );
}
