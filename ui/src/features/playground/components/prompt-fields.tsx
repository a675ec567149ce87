import { useId } from "react";

import { FieldError } from "../../../components/field-error";
import type { FieldErrors, PlaygroundValues } from "../playground-form";

interface PromptFieldsProps {
  values: PlaygroundValues;
  errors: FieldErrors;
  onChange: (change: Partial<PlaygroundValues>) => void;
}

/** The prompt, and what may go with it: a system prompt, a token cap, a temperature. */
export function PromptFields({ values, errors, onChange }: PromptFieldsProps) {
  const id = useId();
  return (
    <>
      <div className="form-field">
        <label htmlFor={`${id}-prompt`}>Prompt</label>
        <textarea
          id={`${id}-prompt`}
          rows={4}
          value={values.prompt}
          aria-invalid={errors.prompt !== undefined}
          aria-describedby={`${id}-prompt-error`}
          onChange={(event) => { onChange({ prompt: event.target.value }); }}
        />
        <FieldError id={`${id}-prompt-error`} message={errors.prompt} />
      </div>
      <div className="form-field">
        <label htmlFor={`${id}-system`}>System prompt (optional)</label>
        <textarea
          id={`${id}-system`}
          rows={2}
          value={values.system}
          aria-invalid={errors.system !== undefined}
          aria-describedby={`${id}-system-error`}
          onChange={(event) => { onChange({ system: event.target.value }); }}
        />
        <FieldError id={`${id}-system-error`} message={errors.system} />
      </div>
      <div className="form-field">
        <label htmlFor={`${id}-max-tokens`}>Max tokens (optional)</label>
        <input
          id={`${id}-max-tokens`}
          inputMode="numeric"
          value={values.maxTokens}
          aria-invalid={errors.maxTokens !== undefined}
          aria-describedby={`${id}-max-tokens-error`}
          onChange={(event) => { onChange({ maxTokens: event.target.value }); }}
        />
        <FieldError id={`${id}-max-tokens-error`} message={errors.maxTokens} />
      </div>
      <div className="form-field">
        <label htmlFor={`${id}-temperature`}>Temperature (optional)</label>
        <input
          id={`${id}-temperature`}
          inputMode="decimal"
          value={values.temperature}
          placeholder="0 to 2"
          aria-invalid={errors.temperature !== undefined}
          aria-describedby={`${id}-temperature-error`}
          onChange={(event) => { onChange({ temperature: event.target.value }); }}
        />
        <FieldError id={`${id}-temperature-error`} message={errors.temperature} />
      </div>
    </>
  );
}
