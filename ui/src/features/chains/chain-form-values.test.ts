import { describe, expect, it } from "vitest";

import { entryId, moveEntry, parseEntry, parseNewChain } from "./chain-form-values";

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
