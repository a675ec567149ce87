import { describe, expect, it } from "vitest";

import type { LimitEntry, RateLimits } from "../../../api/ratelimit-types";
import { applyLimitsEvent } from "./types";

function entry(provider: string, changes: Partial<LimitEntry> = {}): LimitEntry {
  return {
    provider,
    keyLabel: "…abcd",
    model: `${provider}-model`,
    status: "available",
    cooldownUntil: null,
    reason: null,
    disabled: null,
    inFlight: 0,
    metrics: [],
    ...changes,
  };
}

const BEFORE: RateLimits = {
  generatedAt: 1000,
  entries: [entry("groq"), entry("cerebras"), entry("mistral")],
  queue: { enabled: true, maxSize: 10, maxWaitMs: 500, depth: 1, chains: { default: 1 } },
};

describe("applying a limits event", () => {
  it("replaces changed entries in place, drops removed ones and appends new ones", () => {
    const exhausted = entry("groq", { status: "exhausted", cooldownUntil: 5000, reason: "HTTP 429" });

    const after = applyLimitsEvent(BEFORE, {
      generatedAt: 2000,
      entries: [exhausted, entry("openrouter")],
      removed: [{ provider: "cerebras", keyLabel: "…abcd", model: "cerebras-model" }],
      queue: { depth: 0, chains: { default: 0 } },
    });

    expect(after.entries.map((row) => row.provider)).toEqual(["groq", "mistral", "openrouter"]);
    expect(after.entries[0]).toEqual(exhausted);
    expect(after.generatedAt).toBe(2000);
    expect(after.queue).toEqual({
      enabled: true,
      maxSize: 10,
      maxWaitMs: 500,
      depth: 0,
      chains: { default: 0 },
    });
  });

  it("keeps the same entry apart per key label", () => {
    const otherKey = entry("groq", { keyLabel: "key#2", status: "failing" });

    const after = applyLimitsEvent(BEFORE, {
      generatedAt: 2000,
      entries: [otherKey],
      removed: [],
      queue: { depth: 0, chains: {} },
    });

    expect(after.entries).toHaveLength(4);
    expect(after.entries[0]).toEqual(entry("groq"));
  });

  it("replaces every chain's outlook with the event's, and keeps it when the event has none", () => {
    const withChains: RateLimits = {
      ...BEFORE,
      chains: [
        {
          name: "default",
          isDefault: true,
          queued: 1,
          next: { provider: "groq", model: "groq-model" },
          freeAt: null,
        },
      ],
    };
    const moved = {
      name: "default",
      isDefault: true,
      queued: 0,
      next: { provider: "cerebras", model: "cerebras-model" },
      freeAt: null,
    };

    const after = applyLimitsEvent(withChains, {
      generatedAt: 2000,
      entries: [],
      removed: [],
      queue: { depth: 0, chains: { default: 0 } },
      chains: [moved],
    });
    const unchanged = applyLimitsEvent(withChains, {
      generatedAt: 2000,
      entries: [],
      removed: [],
      queue: { depth: 0, chains: {} },
    });

    expect(after.chains).toEqual([moved]);
    expect(unchanged.chains).toEqual(withChains.chains);
  });
});
