import { describe, expect, it } from "vitest";

import { limitTexts } from "../../api/manual-limits";
import {
  entryId,
  limitErrorAt,
  limitsSummary,
  moveEntry,
  parseEntry,
  parseLimits,
  parseNewChain,
  withLimits,
} from "./chain-form-values";

const A = { provider: "a", model: "a-model" };
const B = { provider: "b", model: "b-model" };
const C = { provider: "c", model: "c-model" };

describe("moveEntry", () => {
  it("moves an entry down and up, keeping the others' order", () => {
    expect(moveEntry([A, B, C], 0, 2)).toEqual([B, C, A]);
    expect(moveEntry([A, B, C], 2, 0)).toEqual([C, A, B]);
    expect(moveEntry([A, B, C], 1, 1)).toEqual([A, B, C]);
  });

  it("leaves the list as it is for a position that holds nothing", () => {
    expect(moveEntry([A, B], 5, 0)).toEqual([A, B]);
  });
});

describe("parseEntry", () => {
  it("takes a provider and a model, trimmed", () => {
    expect(parseEntry({ provider: "b", model: " b-model " }, [A])).toEqual({ ok: true, entry: B });
  });

  it("asks for what is missing", () => {
    expect(parseEntry({ provider: "", model: "m" }, [])).toEqual({ ok: false, error: "Pick a provider." });
    expect(parseEntry({ provider: "a", model: " " }, [])).toEqual({
      ok: false,
      error: "Pick or type a model.",
    });
  });

  it("refuses an entry the chain already has", () => {
    expect(parseEntry(A, [A, B])).toEqual({ ok: false, error: "a/a-model is already in this chain." });
  });
});

describe("parseNewChain", () => {
  it("takes a name and at least one entry", () => {
    expect(parseNewChain({ name: " fast ", entries: [A] })).toEqual({
      ok: true,
      chain: { name: "fast", entries: [A] },
    });
  });

  it("says what is missing", () => {
    expect(parseNewChain({ name: "", entries: [] })).toEqual({
      ok: false,
      errors: { name: "Name the chain.", entries: "Add at least one entry." },
    });
  });
});

describe("entryId", () => {
  it("is the entry's provider/model address", () => {
    expect(entryId(B)).toBe("b/b-model");
  });
});

describe("entry limits", () => {
  const texts = (values: Partial<Record<string, string>>) => ({ ...limitTexts(null), ...values });

  it("reads an entry's limits into the form, empty where not set", () => {
    expect(limitTexts({ requestsPerMinute: 30, tokensPerDay: null })).toEqual(
      texts({ requestsPerMinute: "30" }),
    );
  });

  it("sends the limits typed, leaving out the empty ones, and none as null", () => {
    expect(parseLimits(texts({ requestsPerMinute: " 30 ", requestsPerDay: "1,000" }))).toEqual({
      ok: true,
      limits: { requestsPerMinute: 30, requestsPerDay: 1000 },
    });
    expect(parseLimits(texts({}))).toEqual({ ok: true, limits: null });
  });

  it("refuses what is no whole number above 0, next to its field", () => {
    expect(parseLimits(texts({ requestsPerMinute: "-1", tokensPerDay: "1.5", requestsPerDay: "0" }))).toEqual({
      ok: false,
      errors: {
        requestsPerMinute: "A limit is a whole number above 0.",
        requestsPerDay: "A limit is a whole number above 0.",
        tokensPerDay: "A limit is a whole number above 0.",
      },
    });
  });

  it("sets and clears one entry's limits, the others untouched", () => {
    const limited = withLimits([A, B], 1, { requestsPerDay: 5 });
    expect(limited).toEqual([A, { ...B, rateLimits: { requestsPerDay: 5 } }]);
    expect(withLimits(limited, 1, null)).toEqual([A, B]);
  });

  it("sums limits up in a few words", () => {
    expect(limitsSummary({ requestsPerMinute: 30, requestsPerDay: 1000 })).toBe("30/min · 1,000/day");
    expect(limitsSummary({ tokensPerMinute: 6000, concurrentRequests: 2 })).toBe(
      "6,000 tok/min · 2 at once",
    );
    expect(limitsSummary({ requestsPerHour: null })).toBeNull();
    expect(limitsSummary(undefined)).toBeNull();
  });

  it("finds the entry and limit an API refusal names", () => {
    expect(limitErrorAt("entries[1].rateLimits.requestsPerDay")).toEqual({ index: 1, field: "requestsPerDay" });
    expect(limitErrorAt("chains[0].entries[2].rateLimits.tokensPerDay")).toEqual({ index: 2, field: "tokensPerDay" });
    expect(limitErrorAt("entries[1].model")).toBeNull();
    expect(limitErrorAt(null)).toBeNull();
  });
});
