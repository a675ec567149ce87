import { z } from "zod";

import type { PromptTestBody } from "./api/prompt-test-types";

/** What the playground's form holds, as typed. `target` is `chain` or `entry`. */
export interface PlaygroundValues {
  target: "chain" | "entry";
  chain: string;
  provider: string;
  model: string;
  system: string;
  prompt: string;
  maxTokens: string;
  temperature: string;
}

export type PlaygroundField = keyof PlaygroundValues;
export type FieldErrors = Partial<Record<PlaygroundField, string>>;

export const EMPTY_VALUES: PlaygroundValues = {
  target: "chain",
  chain: "",
  provider: "",
  model: "",
  system: "",
  prompt: "",
  maxTokens: "",
  temperature: "",
};

const optionalNumber = (schema: z.ZodNumber) =>
  z
    .string()
    .trim()
    .transform((text) => (text === "" ? undefined : Number(text)))
    .pipe(schema.optional());

const WHOLE = "A whole number, 1 or more.";
const TEMPERATURE = "A number from 0 to 2.";

const valuesSchema = z.object({
  prompt: z.string().trim().min(1, "Write a prompt."),
  maxTokens: optionalNumber(z.number({ error: WHOLE }).int(WHOLE).min(1, WHOLE)),
  temperature: optionalNumber(
    z.number({ error: TEMPERATURE }).min(0, TEMPERATURE).max(2, TEMPERATURE),
  ),
});

/** What the target needs: a chain, or a provider and a model. */
function targetErrors(values: PlaygroundValues): FieldErrors {
  if (values.target === "chain") {
    return values.chain === "" ? { chain: "Pick a chain." } : {};
  }
  const errors: FieldErrors = {};
  if (values.provider === "") {
    errors.provider = "Pick a provider.";
  }
  if (values.model.trim() === "") {
    errors.model = "Pick or type a model.";
  }
  return errors;
}

export type FormResult = { ok: true; body: PromptTestBody } | { ok: false; errors: FieldErrors };

/** The streamed `POST /api/test` body the form asks for, or what is wrong with each field.
 * A system prompt turns the prompt into `messages`. */
export function toPromptBody(values: PlaygroundValues): FormResult {
  const parsed = valuesSchema.safeParse(values);
  const errors = targetErrors(values);
  for (const issue of parsed.error?.issues ?? []) {
    const field = issue.path[0] as PlaygroundField;
    errors[field] ??= issue.message;
  }
  if (!parsed.success || Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  const v = parsed.data;
  const system = values.system.trim();
  const body: PromptTestBody =
    values.target === "chain"
      ? { chain: values.chain, stream: true }
      : { provider: values.provider, model: values.model.trim(), stream: true };
  if (system === "") {
    body.prompt = v.prompt;
  } else {
    body.messages = [
      { role: "system", content: system },
      { role: "user", content: v.prompt },
    ];
  }
  if (v.maxTokens !== undefined) {
    body.maxTokens = v.maxTokens;
  }
  if (v.temperature !== undefined) {
    body.temperature = v.temperature;
  }
  return { ok: true, body };
}

const API_FIELDS: Record<string, PlaygroundField> = {
  chain: "chain",
  provider: "provider",
  model: "model",
  entry: "model",
  prompt: "prompt",
  maxTokens: "maxTokens",
  temperature: "temperature",
};

/** The form field an API error's `param` points at (`messages[1].content` is the prompt), or
 * null when it names none of them. */
export function fieldOfParam(param: string | null): PlaygroundField | null {
  if (param === null) {
    return null;
  }
  if (param.startsWith("messages")) {
    return param.startsWith("messages[0]") ? "system" : "prompt";
  }
  return API_FIELDS[param] ?? null;
}
