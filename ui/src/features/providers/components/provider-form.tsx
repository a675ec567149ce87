import { useState, type SubmitEvent } from "react";

import { ApiError } from "../../../lib/api-error";
import { PROVIDER_TYPES, type ProviderType } from "../api/provider-types";
import { useSaveProvider } from "../api/save-provider";
import {
  formFieldOf,
  toProviderBody,
  type FormErrors,
  type ProviderFormValues,
} from "../provider-form-values";
import { FieldError } from "../../../components/field-error";
import { LimitInputs } from "../../../components/limit-inputs";
import { HeaderRows } from "./header-rows";
import { KeyRows } from "./key-rows";

export interface ProviderFormProps {
  initial: ProviderFormValues;
  /** The provider's id before this edit; null: adding one. */
  existingId: string | null;
  keysBefore: number;
  etag: string | null;
  onDone: () => void;
}

/** The form's errors on limits (`rateLimits.requestsPerDay`), keyed by the limit's name. */
function limitErrors(errors: FormErrors): Partial<Record<string, string>> {
  return Object.fromEntries(
    Object.entries(errors)
      .filter(([key]) => key.startsWith("rateLimits."))
      .map(([key, message]) => [key.slice("rateLimits.".length), message]),
  );
}

export function ProviderForm({ initial, existingId, keysBefore, etag, onDone }: ProviderFormProps) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const save = useSaveProvider();

  function set<K extends keyof ProviderFormValues>(field: K, value: ProviderFormValues[K]) {
    setValues((current) => ({ ...current, [field]: value }));
  }

  function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = toProviderBody(values, keysBefore);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    save.mutate(
      { body: result.body, existingId, etag },
      {
        onSuccess: onDone,
        onError: (error) => {
          const message = error instanceof Error ? error.message : String(error);
          const field = error instanceof ApiError ? formFieldOf(error.field) : "form";
          setErrors({ [field]: message });
        },
      },
    );
  }

  const text = (field: "id" | "name" | "baseUrl" | "timeout" | "dailyResetTimezone", label: string, hint?: string) => (
    <div className="form-field">
      <label htmlFor={`provider-${field}`}>{label}</label>
      <input
        id={`provider-${field}`}
        value={values[field]}
        placeholder={hint}
        aria-invalid={errors[field] !== undefined}
        aria-describedby={errors[field] !== undefined ? `provider-${field}-error` : undefined}
        onChange={(event) => { set(field, event.target.value); }}
      />
      <FieldError id={`provider-${field}-error`} message={errors[field]} />
    </div>
  );

  return (
    <form className="form-panel" aria-label={existingId === null ? "Add provider" : `Edit ${existingId}`} onSubmit={submit} noValidate>
      <h2>{existingId === null ? "Add a provider" : `Edit ${existingId}`}</h2>
      {text("id", "Id", "groq-2")}
      {text("name", "Name", "defaults to the id")}
      <div className="form-field">
        <label htmlFor="provider-type">Type</label>
        <select
          id="provider-type"
          value={values.type}
          onChange={(event) => { set("type", event.target.value as ProviderType); }}
        >
          {PROVIDER_TYPES.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
        <FieldError id="provider-type-error" message={errors.type} />
      </div>
      <KeyRows rows={values.keys} onChange={(keys) => { set("keys", keys); }} error={errors.keys} />
      {text("baseUrl", "Base URL", values.type === "generic-openai" ? "required" : "the type's default")}
      {text("timeout", "Timeout (ms)", "settings.requestTimeoutMs")}
      <HeaderRows rows={values.headers} onChange={(headers) => { set("headers", headers); }} error={errors.headers} />
      <fieldset className="form-group">
        <legend>Manual rate limits</legend>
        <LimitInputs
          idPrefix="provider"
          values={values.rateLimits}
          errors={limitErrors(errors)}
          onChange={(rateLimits) => { set("rateLimits", rateLimits); }}
        />
      </fieldset>
      <div className="form-field">
        <label htmlFor="provider-keysShareLimits">Keys share limits</label>
        <select
          id="provider-keysShareLimits"
          value={values.keysShareLimits}
          onChange={(event) => { set("keysShareLimits", event.target.value as ProviderFormValues["keysShareLimits"]); }}
        >
          <option value="">the type's default</option>
          <option value="true">yes: one account</option>
          <option value="false">no: each key adds capacity</option>
        </select>
        <FieldError id="provider-keysShareLimits-error" message={errors.keysShareLimits} />
      </div>
      {text("dailyResetTimezone", "Daily reset time zone", "UTC")}
      <FieldError id="provider-form-error" message={errors.form} />
      <div className="form-actions">
        <button type="submit" disabled={save.isPending}>
          {existingId === null ? "Add provider" : "Save provider"}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
