import type {
  SettingField,
  SettingsPatch,
  SettingsView,
  SettingValue,
} from "./api/setting-types";

/** A setting's state in the form: text as typed (a list one item per line), a checkbox's
 * boolean, or a key setting's rows of NEW keys (none, or all blank: keep the current keys). */
export type TypedSetting = string | boolean | string[];

export type SettingsFormValues = Record<string, TypedSetting>;

/** Where an error shows: a setting's name, or `form` for the form as a whole. */
export type FormErrors = Partial<Record<string, string>>;

/** The answer's field that shows a key setting's keys: `apiKeys` → `apiKeyLabels`. */
export function labelsField(name: string): string {
  return name.replace(/Keys$/, "KeyLabels");
}

/** The labels (`…abcd`) of a key setting's keys, as the settings answer shows them. */
export function keyLabels(view: SettingsView, name: string): string[] {
  const labels = view[labelsField(name)];
  return Array.isArray(labels) ? labels : [];
}

function shown(value: SettingValue | null | undefined): string {
  if (value === undefined || value === null) {
    return "";
  }
  return Array.isArray(value) ? value.join("\n") : String(value);
}

/** The form's values for the settings as they run. */
export function settingsValues(fields: SettingField[], view: SettingsView): SettingsFormValues {
  return Object.fromEntries(
    fields.map((field): [string, TypedSetting] => {
      if (field.kind === "keys") {
        return [field.name, []];
      }
      const value = view[field.name];
      return [field.name, field.kind === "boolean" ? value === true : shown(value)];
    }),
  );
}

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

function bounds(field: SettingField): string {
  const { minimum, maximum } = field;
  if (minimum !== null && maximum !== null) {
    return ` from ${minimum} to ${maximum}`;
  }
  return minimum !== null ? `, ${minimum} or more` : "";
}

type Parsed = { ok: true; value: SettingValue | null } | { ok: false; error: string };

/** One setting's typed value as the API takes it; blank puts an optional setting back to its
 * default (`null`). */
export function parseSetting(field: SettingField, typed: TypedSetting): Parsed {
  if (typeof typed === "boolean") {
    return { ok: true, value: typed };
  }
  if (Array.isArray(typed)) {
    return { ok: true, value: typed.map((key) => key.trim()).filter((key) => key !== "") };
  }
  if (field.kind === "list") {
    return { ok: true, value: lines(typed) };
  }
  const text = typed.trim();
  if (text === "") {
    return field.required
      ? { ok: false, error: `${field.name} is required.` }
      : { ok: true, value: null };
  }
  if (field.kind !== "integer") {
    return { ok: true, value: text };
  }
  const number = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  const fits =
    Number.isSafeInteger(number) &&
    (field.minimum === null || number >= field.minimum) &&
    (field.maximum === null || number <= field.maximum);
  return fits
    ? { ok: true, value: number }
    : { ok: false, error: `${field.name} is a whole number${bounds(field)}.` };
}

function same(typed: TypedSetting, before: TypedSetting | undefined): boolean {
  return JSON.stringify(typed) === JSON.stringify(before);
}

export type SettingsPatchResult =
  | { ok: true; patch: SettingsPatch }
  | { ok: false; errors: FormErrors };

/** The PATCH body for what changed between `initial` and `values` (only those settings, so the
 * file gains no line the user did not touch), or the errors to show next to their fields. A
 * key setting is sent only when new keys were typed: they replace the current ones. */
export function toSettingsPatch(
  fields: SettingField[],
  initial: SettingsFormValues,
  values: SettingsFormValues,
): SettingsPatchResult {
  const patch: SettingsPatch = {};
  const errors: FormErrors = {};
  for (const field of fields) {
    const typed = values[field.name];
    if (typed === undefined || same(typed, initial[field.name])) {
      continue;
    }
    const parsed = parseSetting(field, typed);
    if (!parsed.ok) {
      errors[field.name] = parsed.error;
    } else if (field.kind === "keys" && Array.isArray(parsed.value) && parsed.value.length === 0) {
      continue;
    } else {
      patch[field.name] = parsed.value;
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, patch };
}

/** The setting an API error's `param` points at (`port`, `settings.corsOrigins[0]`,
 * `adminKeys[1]`), or `form` when it names none of the form's settings. */
export function settingOfParam(param: string | null, fields: SettingField[]): string {
  if (param === null) {
    return "form";
  }
  const name = param.replace(/^settings\./, "").replace(/[[.].*$/, "");
  return fields.some((field) => field.name === name) ? name : "form";
}

/** A setting's value in words, when its unit makes the number hard to read: `90000` ms is
 * "1.5 min", `10485760` bytes "10 MiB". Empty when there is nothing to add. */
export function amountInWords(name: string, typed: string): string {
  if (!/^\d+$/.test(typed.trim())) {
    return "";
  }
  const value = Number(typed);
  if (name.endsWith("Ms")) {
    if (value >= 86_400_000) {
      return `${+(value / 86_400_000).toFixed(2)} days`;
    }
    if (value >= 3_600_000) {
      return `${+(value / 3_600_000).toFixed(2)} h`;
    }
    if (value >= 60_000) {
      return `${+(value / 60_000).toFixed(2)} min`;
    }
    return value >= 1000 ? `${+(value / 1000).toFixed(2)} s` : "";
  }
  if (name.endsWith("Bytes") && value >= 1024) {
    const mib = value / (1024 * 1024);
    return mib >= 1 ? `${+mib.toFixed(2)} MiB` : `${+(value / 1024).toFixed(2)} KiB`;
  }
  return "";
}

/** A setting's default in words, for the hint under its input. */
export function defaultInWords(field: SettingField): string {
  if (field.required) {
    return "required";
  }
  const value = field.default;
  if (Array.isArray(value)) {
    return value.length === 0 ? "default: none" : `default: ${value.join(", ")}`;
  }
  return value === null ? "default: none" : `default: ${String(value)}`;
}
