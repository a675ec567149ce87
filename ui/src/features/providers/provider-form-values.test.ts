import { describe, expect, it } from "vitest";

import type { ProviderView } from "./api/provider-types";
import {
  emptyProviderValues,
  formFieldOf,
  providerValues,
  toProviderBody,
  type ProviderFormValues,
} from "./provider-form-values";

function filled(change: Partial<ProviderFormValues> = {}): ProviderFormValues {
  return { ...emptyProviderValues(), id: "groq-2", type: "groq", keys: [{ label: null, value: "sk-one" }], ...change };
}

const VIEW: ProviderView = {
  id: "a",
  name: "Provider A",
  type: "generic-openai",
  keys: [{ label: "…aaaa" }, { label: "…bbbb" }],
  baseUrl: "http://127.0.0.1:9/v1",
  timeout: 5000,
  rateLimits: { requestsPerMinute: 30, tokensPerDay: null },
  headers: { "X-Title": "me", "api-key": "…cccc" },
  keysShareLimits: true,
  dailyResetTimezone: "Europe/Paris",
};

describe("toProviderBody", () => {
  it("sends a new provider's fields, its first key as apiKey and the others as apiKeys", () => {
    const result = toProviderBody(
      filled({
        name: " Groq two ",
        keys: [
          { label: null, value: "sk-one" },
          { label: null, value: "" },
          { label: null, value: "sk-two" },
        ],
        timeout: "2500",
        headers: [{ name: "X-Title", value: "me" }],
        rateLimits: { ...emptyProviderValues().rateLimits, requestsPerDay: "1000" },
        keysShareLimits: "false",
        dailyResetTimezone: "UTC",
      }),
    );
    expect(result).toEqual({
      ok: true,
      body: {
        id: "groq-2",
        name: "Groq two",
        type: "groq",
        apiKey: "sk-one",
        apiKeys: ["sk-two"],
        baseUrl: null,
        timeout: 2500,
        rateLimits: { requestsPerDay: 1000 },
        headers: { "X-Title": "me" },
        keysShareLimits: false,
        dailyResetTimezone: "UTC",
      },
    });
  });

  it("points each invalid field at its own message", () => {
    const result = toProviderBody(
      filled({
        id: "a/b",
        type: "generic-openai",
        keys: [{ label: null, value: " " }],
        timeout: "50",
        headers: [{ name: "", value: "x" }],
        rateLimits: { ...emptyProviderValues().rateLimits, tokensPerMinute: "0" },
      }),
    );
    expect(result).toEqual({
      ok: false,
      errors: {
        id: "An id cannot contain '/'.",
        keys: "Enter at least one key.",
        baseUrl: "A generic-openai provider needs its base URL.",
        timeout: "The timeout is a number of milliseconds, 100 or more.",
        headers: "Every header needs a name.",
        "rateLimits.tokensPerMinute": "A limit is a whole number above 0.",
      },
    });
  });

  it("refuses a base URL that is not http(s) and an empty id", () => {
    const result = toProviderBody(filled({ id: " ", baseUrl: "ftp://x" }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual({
      id: "Give the provider an id.",
      baseUrl: "The base URL must start with http:// or https://.",
    });
  });
});

describe("editing a provider", () => {
  it("shows its fields, its keys as labels only, and a name equal to the id as blank", () => {
    const values = providerValues({ ...VIEW, name: "a" });
    expect(values).toMatchObject({
      id: "a",
      name: "",
      keys: [
        { label: "…aaaa", value: "" },
        { label: "…bbbb", value: "" },
      ],
      timeout: "5000",
      headers: [
        { name: "X-Title", value: "me" },
        { name: "api-key", value: "…cccc" },
      ],
      keysShareLimits: "true",
      dailyResetTimezone: "Europe/Paris",
    });
    expect(values.rateLimits.requestsPerMinute).toBe("30");
    expect(values.rateLimits.tokensPerDay).toBe("");
  });

  it("sends no key when every key is kept, so the proxy keeps them", () => {
    const result = toProviderBody(providerValues(VIEW), 2);
    expect(result.ok && result.body).toMatchObject({
      id: "a",
      baseUrl: "http://127.0.0.1:9/v1",
      rateLimits: { requestsPerMinute: 30 },
      headers: { "X-Title": "me", "api-key": "…cccc" },
    });
    expect(result.ok && "apiKey" in result.body).toBe(false);
  });

  it("replaces a typed key and keeps the others by their labels", () => {
    const values = providerValues(VIEW);
    values.keys = [{ label: "…aaaa", value: "" }, { label: "…bbbb", value: "sk-new" }];
    const result = toProviderBody(values, 2);
    expect(result.ok && result.body).toMatchObject({ apiKey: "…aaaa", apiKeys: ["sk-new"] });
  });

  it("sends the keys left when one is removed", () => {
    const values = providerValues(VIEW);
    values.keys = [{ label: "…bbbb", value: "" }];
    const result = toProviderBody(values, 2);
    expect(result.ok && result.body.apiKey).toBe("…bbbb");
    expect(result.ok && result.body.apiKeys).toBeUndefined();
  });
});

describe("formFieldOf", () => {
  it.each([
    ["providers[2].baseUrl", "baseUrl"],
    ["baseUrl", "baseUrl"],
    ["apiKeys[0]", "keys"],
    ["providers[0].apiKey", "keys"],
    ["rateLimits.requestsPerDay", "rateLimits.requestsPerDay"],
    ["providers[1].headers.X-Title", "headers"],
    ["chains[0].entries", "form"],
    [null, "form"],
  ])("puts %s at %s", (param, field) => {
    expect(formFieldOf(param)).toBe(field);
  });
});
