import { describe, expect, it } from "vitest";

import type { SettingField } from "./api/setting-types";
import {
  amountInWords,
  defaultInWords,
  keyLabels,
  parseSetting,
  settingOfParam,
  settingsValues,
  toSettingsPatch,
} from "./settings-form-values";

function field(name: string, kind: SettingField["kind"], more: Partial<SettingField> = {}): SettingField {
  return {
    name,
    description: `what ${name} does`,
    kind,
    required: false,
    default: null,
    minimum: null,
    maximum: null,
    choices: null,
    restartRequired: false,
    variable: null,
    setByEnvironment: false,
    ...more,
  };
}

const FIELDS: SettingField[] = [
  field("port", "integer", { default: 3429, minimum: 0, maximum: 65535, restartRequired: true }),
  field("apiKeys", "keys", { required: true }),
  field("adminKeys", "keys", { default: [] }),
  field("defaultChain", "text", { required: true }),
  field("logLevel", "choice", { default: "info", choices: ["info", "debug"] }),
  field("queueMode", "boolean", { default: false }),
  field("corsOrigins", "list", { default: [] }),
  field("probeConcurrency", "integer", { default: 1, minimum: 1 }),
];

const VIEW = {
  port: 3429,
  apiKeyLabels: ["…aaaa"],
  adminKeyLabels: ["…bbbb", "…cccc"],
  defaultChain: "default",
  logLevel: "info",
  queueMode: false,
  corsOrigins: ["http://a.test", "http://b.test"],
  probeConcurrency: 1,
};

describe("settingsValues", () => {
  it("shows each setting as text, a list one item per line, keys as no new key", () => {
    expect(settingsValues(FIELDS, VIEW)).toEqual({
      port: "3429",
      apiKeys: [],
      adminKeys: [],
      defaultChain: "default",
      logLevel: "info",
      queueMode: false,
      corsOrigins: "http://a.test\nhttp://b.test",
      probeConcurrency: "1",
    });
  });

  it("shows an optional setting the answer gives as null as blank, and sends nothing for it", () => {
    const fields = [field("database", "text")];
    const initial = settingsValues(fields, { database: null });
    expect(initial).toEqual({ database: "" });
    expect(toSettingsPatch(fields, initial, initial)).toEqual({ ok: true, patch: {} });
  });

  it("finds a key setting's labels under its label field", () => {
    expect(keyLabels(VIEW, "adminKeys")).toEqual(["…bbbb", "…cccc"]);
    expect(keyLabels(VIEW, "apiKeys")).toEqual(["…aaaa"]);
  });
});

describe("toSettingsPatch", () => {
  const initial = settingsValues(FIELDS, VIEW);

  it("sends only the settings that changed, typed as the API takes them", () => {
    const values = {
      ...initial,
      port: " 8080 ",
      queueMode: true,
      logLevel: "debug",
      corsOrigins: "http://a.test\n\n  http://c.test  \n",
    };
    expect(toSettingsPatch(FIELDS, initial, values)).toEqual({
      ok: true,
      patch: {
        port: 8080,
        queueMode: true,
        logLevel: "debug",
        corsOrigins: ["http://a.test", "http://c.test"],
      },
    });
  });

  it("sends nothing when nothing changed", () => {
    expect(toSettingsPatch(FIELDS, initial, { ...initial })).toEqual({ ok: true, patch: {} });
  });

  it("puts an optional setting back to its default when it is emptied", () => {
    expect(toSettingsPatch(FIELDS, initial, { ...initial, port: "" })).toEqual({
      ok: true,
      patch: { port: null },
    });
  });

  it("replaces keys only when new ones are typed", () => {
    const typed = { ...initial, adminKeys: [" sk-new-admin-1", "", "sk-new-admin-2"] };
    expect(toSettingsPatch(FIELDS, initial, typed)).toEqual({
      ok: true,
      patch: { adminKeys: ["sk-new-admin-1", "sk-new-admin-2"] },
    });
    expect(toSettingsPatch(FIELDS, initial, { ...initial, adminKeys: ["  ", ""] })).toEqual({
      ok: true,
      patch: {},
    });
  });

  it("names each wrong value next to its setting", () => {
    const values = { ...initial, port: "70000", probeConcurrency: "0", defaultChain: " " };
    expect(toSettingsPatch(FIELDS, initial, values)).toEqual({
      ok: false,
      errors: {
        port: "port is a whole number from 0 to 65535.",
        probeConcurrency: "probeConcurrency is a whole number, 1 or more.",
        defaultChain: "defaultChain is required.",
      },
    });
  });
});

describe("parseSetting", () => {
  it("refuses what is not a whole number", () => {
    const port = FIELDS[0];
    expect(port).toBeDefined();
    if (port === undefined) return;
    expect(parseSetting(port, "12.5")).toEqual({ ok: false, error: "port is a whole number from 0 to 65535." });
    expect(parseSetting(port, "-1").ok).toBe(false);
    expect(parseSetting(port, "99999999999999999999").ok).toBe(false);
  });
});

describe("settingOfParam", () => {
  it("points an API error at its setting", () => {
    expect(settingOfParam("port", FIELDS)).toBe("port");
    expect(settingOfParam("settings.defaultChain", FIELDS)).toBe("defaultChain");
    expect(settingOfParam("settings.corsOrigins[1]", FIELDS)).toBe("corsOrigins");
    expect(settingOfParam("adminKeys[0]", FIELDS)).toBe("adminKeys");
  });

  it("falls back to the form for anything else", () => {
    expect(settingOfParam(null, FIELDS)).toBe("form");
    expect(settingOfParam("settings", FIELDS)).toBe("form");
    expect(settingOfParam("providers[0].id", FIELDS)).toBe("form");
  });
});

describe("amountInWords", () => {
  it("reads milliseconds and bytes", () => {
    expect(amountInWords("cooldownDefaultMs", "60000")).toBe("1 min");
    expect(amountInWords("cooldownDefaultMs", "5400000")).toBe("1.5 h");
    expect(amountInWords("maxCooldownMs", "604800000")).toBe("7 days");
    expect(amountInWords("probeWaitMs", "2500")).toBe("2.5 s");
    expect(amountInWords("probeWaitMs", "500")).toBe("");
    expect(amountInWords("maxBodyBytes", "10485760")).toBe("10 MiB");
    expect(amountInWords("maxBodyBytes", "2048")).toBe("2 KiB");
    expect(amountInWords("port", "3429")).toBe("");
    expect(amountInWords("probeWaitMs", "soon")).toBe("");
  });
});

describe("defaultInWords", () => {
  it("says required, none, or the default", () => {
    expect(FIELDS.map(defaultInWords)).toEqual([
      "default: 3429",
      "required",
      "default: none",
      "required",
      "default: info",
      "default: false",
      "default: none",
      "default: 1",
    ]);
  });
});
