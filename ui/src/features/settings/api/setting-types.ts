import { z } from "zod";

/** One setting as `GET /api/settings/fields` describes it: its meaning is the config schema's
 * own description, so the page never keeps a copy of it. */
export const settingFieldSchema = z.object({
  name: z.string(),
  description: z.string().min(1),
  kind: z.enum(["text", "integer", "boolean", "choice", "list", "keys"]),
  required: z.boolean(),
  default: z.union([z.number(), z.boolean(), z.string(), z.array(z.string())]).nullable(),
  minimum: z.number().nullable(),
  maximum: z.number().nullable(),
  choices: z.array(z.string()).nullable(),
  restartRequired: z.boolean(),
  /** The environment variable that can give this setting instead of the file. */
  variable: z.string().nullable(),
  /** `variable` gives it now: the file's value does not apply and a change is refused. */
  setByEnvironment: z.boolean(),
});

export type SettingField = z.infer<typeof settingFieldSchema>;
export type SettingKind = SettingField["kind"];

export const settingsFieldsSchema = z.object({
  writable: z.boolean(),
  readOnlyReason: z.string().nullable(),
  fields: z.array(settingFieldSchema),
});

export type SettingsFields = z.infer<typeof settingsFieldsSchema>;

/** A setting's value as `GET /api/settings` answers it; the keys only as labels
 * (`apiKeyLabels`, `adminKeyLabels`). */
export type SettingValue = string | number | boolean | string[];

/** `null`: an optional setting with no value (`database` unset: the SQLite file is used). */
export const settingsViewSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).nullable(),
);

export type SettingsView = z.infer<typeof settingsViewSchema>;

/** What `PATCH /api/settings` takes: the settings to change; `null` puts one back to its
 * default. */
export type SettingsPatch = Record<string, SettingValue | null>;

/** `PATCH /api/settings`'s answer: the settings after the change, and the field paths
 * (`settings.port`) it changed that apply only at the next start. */
export const settingsChangeSchema = z.looseObject({
  restartRequired: z.array(z.string()),
});
