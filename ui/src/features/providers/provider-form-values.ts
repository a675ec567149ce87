import { z } from "zod";

import {
  PROVIDER_TYPES,
  RATE_LIMIT_FIELDS,
  type ProviderBody,
  type ProviderType,
  type ProviderView,
  type RateLimitField,
  type RateLimits,
} from "./api/provider-types";

/** A key row: an existing key shows its `label` and keeps it unless `value` replaces it. */
export interface KeyRow {
  label: string | null;
  value: string;
}

export interface HeaderRow {
  name: string;
  value: string;
}

/** The provider form's state: text as typed, turned into a body by `toProviderBody`. */
export interface ProviderFormValues {
  id: string;
  name: string;
  type: ProviderType;
  keys: KeyRow[];
  baseUrl: string;
  timeout: string;
  headers: HeaderRow[];
  rateLimits: Record<RateLimitField, string>;
  keysShareLimits: "" | "true" | "false";
  dailyResetTimezone: string;
}

/** Where an error shows in the form: a field's name, or `form` for the form as a whole. */
export type FormErrors = Partial<Record<string, string>>;

function noRateLimits(): Record<RateLimitField, string> {
  return Object.fromEntries(RATE_LIMIT_FIELDS.map((field) => [field, ""])) as Record<
    RateLimitField,
    string
  >;
}

export function emptyProviderValues(): ProviderFormValues {
  return {
    id: "",
    name: "",
    type: "openrouter",
    keys: [{ label: null, value: "" }],
    baseUrl: "",
    timeout: "",
    headers: [],
    rateLimits: noRateLimits(),
    keysShareLimits: "",
    dailyResetTimezone: "",
  };
}

export function providerValues(provider: ProviderView): ProviderFormValues {
  const rateLimits = noRateLimits();
  for (const field of RATE_LIMIT_FIELDS) {
    const limit = provider.rateLimits?.[field];
    rateLimits[field] = limit == null ? "" : String(limit);
  }
  return {
    id: provider.id,
    name: provider.name === provider.id ? "" : provider.name,
    type: provider.type,
    keys: provider.keys.map((key) => ({ label: key.label, value: "" })),
    baseUrl: provider.baseUrl ?? "",
    timeout: provider.timeout == null ? "" : String(provider.timeout),
    headers: Object.entries(provider.headers).map(([name, value]) => ({ name, value })),
    rateLimits,
    keysShareLimits:
      provider.keysShareLimits == null ? "" : provider.keysShareLimits ? "true" : "false",
    dailyResetTimezone: provider.dailyResetTimezone ?? "",
  };
}

const optionalText = z.string().trim().transform((text) => (text === "" ? null : text));

function wholeNumber(minimum: number, message: string) {
  return optionalText.pipe(
    z
      .string()
      .regex(/^\d+$/, message)
      .transform(Number)
      .refine((n) => n >= minimum, message)
      .nullable(),
  );
}

const providerSchema = z
  .object({
    id: z
      .string()
      .trim()
      .min(1, "Give the provider an id.")
      .refine((id) => !id.includes("/"), "An id cannot contain '/'."),
    name: z.string().trim(),
    type: z.enum(PROVIDER_TYPES),
    keys: z.array(z.object({ label: z.string().nullable(), value: z.string().trim() })),
    baseUrl: optionalText.pipe(
      z
        .string()
        .regex(/^https?:\/\//, "The base URL must start with http:// or https://.")
        .nullable(),
    ),
    timeout: wholeNumber(100, "The timeout is a number of milliseconds, 100 or more."),
    headers: z.array(z.object({ name: z.string().trim(), value: z.string() })),
    rateLimits: z.object(
      Object.fromEntries(
        RATE_LIMIT_FIELDS.map((field) => [field, wholeNumber(1, "A limit is a whole number above 0.")]),
      ) as Record<RateLimitField, ReturnType<typeof wholeNumber>>,
    ),
    keysShareLimits: z.enum(["", "true", "false"]),
    dailyResetTimezone: optionalText,
  })
  .superRefine((values, context) => {
    if (!values.keys.some((key) => key.value !== "" || key.label !== null)) {
      context.addIssue({ code: "custom", path: ["keys"], message: "Enter at least one key." });
    }
    if (values.type === "generic-openai" && values.baseUrl === null) {
      context.addIssue({
        code: "custom",
        path: ["baseUrl"],
        message: "A generic-openai provider needs its base URL.",
      });
    }
    if (values.headers.some((header) => header.name === "")) {
      context.addIssue({ code: "custom", path: ["headers"], message: "Every header needs a name." });
    }
  });

/** The keys to send: a typed value replaces its row's key, a row left blank keeps its key (its
 * label, sent back, keeps it); when every key is kept as it was, none is sent (all are kept). */
function keysOf(rows: { label: string | null; value: string }[], before: number): string[] | null {
  const kept = rows.filter((row) => row.value !== "" || row.label !== null);
  const unchanged = kept.every((row) => row.value === "") && kept.length === before;
  return unchanged ? null : kept.map((row) => (row.value !== "" ? row.value : (row.label ?? "")));
}

function rateLimitsOf(limits: Record<RateLimitField, number | null>): RateLimits | null {
  const set = Object.entries(limits).filter(([, limit]) => limit !== null);
  return set.length === 0 ? null : (Object.fromEntries(set));
}

export type ProviderBodyResult =
  | { ok: true; body: ProviderBody }
  | { ok: false; errors: FormErrors };

/** The body to send for the form's values, or the errors to show next to their fields.
 * `keysBefore` is how many keys the provider had (0 for a new one). */
export function toProviderBody(values: ProviderFormValues, keysBefore = 0): ProviderBodyResult {
  const parsed = providerSchema.safeParse(values);
  if (!parsed.success) {
    const errors: FormErrors = {};
    for (const issue of parsed.error.issues) {
      const field = issue.path.slice(0, issue.path[0] === "rateLimits" ? 2 : 1).join(".");
      errors[field] ??= issue.message;
    }
    return { ok: false, errors };
  }
  const input = parsed.data;
  const body: ProviderBody = {
    id: input.id,
    name: input.name,
    type: input.type,
    baseUrl: input.baseUrl,
    timeout: input.timeout,
    rateLimits: rateLimitsOf(input.rateLimits),
    headers: Object.fromEntries(input.headers.map((header) => [header.name, header.value])),
    keysShareLimits: input.keysShareLimits === "" ? null : input.keysShareLimits === "true",
    dailyResetTimezone: input.dailyResetTimezone,
  };
  const keys = keysOf(input.keys, keysBefore);
  if (keys !== null) {
    const [first = "", ...more] = keys;
    body.apiKey = first;
    if (more.length > 0) {
      body.apiKeys = more;
    }
  }
  return { ok: true, body };
}

/** The form field an API error's `param` points at (`providers[2].baseUrl`, `apiKeys[0]`,
 * `rateLimits.requestsPerDay`), or `form` when it names none of them. */
export function formFieldOf(param: string | null): string {
  if (param === null) {
    return "form";
  }
  const path = param.replace(/^providers\[\d+\]\.?/, "").replace(/\[\d+\]/g, "");
  const [head = "", next] = path.split(".");
  if (head === "apiKey" || head === "apiKeys") {
    return "keys";
  }
  if (head === "rateLimits" && next !== undefined) {
    return `rateLimits.${next}`;
  }
  const fields = ["id", "name", "type", "baseUrl", "timeout", "headers", "keysShareLimits", "dailyResetTimezone"];
  return fields.includes(head) ? head : "form";
}
