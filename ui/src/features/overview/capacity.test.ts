import { describe, expect, it } from "vitest";

import type { ChainsAnswer, LimitState, LimitWindow } from "./api/types";
import { chainCapacity, tightest } from "./capacity";

const NOW = 1_000_000;

function window(changes: Partial<LimitWindow>): LimitWindow {
  return {
    kind: "requests",
    window: "minute",
    scope: "model",
    limit: 30,
    remaining: 30,
    inFlight: 0,
    resetAt: NOW + 60_000,
    ...changes,
  };
}

function state(provider: string, changes: Partial<LimitState> = {}): LimitState {
  return {
    provider,
    keyLabel: "…abcd",
    model: `${provider}-model`,
    status: "tracking",
    cooldownUntil: null,
    reason: null,
    disabled: null,
    inFlight: 0,
    metrics: [],
    ...changes,
  };
}

const CHAINS: ChainsAnswer = {
  chains: [
    {
      name: "default",
      isDefault: true,
      entries: [
        { provider: "groq", model: "groq-model" },
        { provider: "cerebras", model: "cerebras-model" },
        { provider: "mistral", model: "mistral-model" },
      ],
    },
    {
      name: "fast",
      isDefault: false,
      entries: [{ provider: "cerebras", model: "cerebras-model" }],
    },
  ],
};

describe("the tightest window", () => {
  it("is the one with least left, counting in-flight requests as spent", () => {
    const perMinute = window({ remaining: 10, inFlight: 3 });
    const perDay = window({ window: "day", limit: 1000, remaining: 8, resetAt: NOW + 3_600_000 });

    expect(tightest([perDay, perMinute], "requests")).toEqual({
      left: 7,
      limit: 30,
      window: "minute",
      resetAt: NOW + 60_000,
    });
  });

  it("prefers a known figure, and of equals the one refilling last", () => {
    const unknown = window({ remaining: null });
    const soon = window({ remaining: 5 });
    const late = window({ window: "day", remaining: 5, resetAt: NOW + 9_000_000 });

    expect(tightest([unknown, soon, late], "requests")?.window).toBe("day");
    expect(tightest([unknown], "requests")?.left).toBeNull();
  });

  it("is null when no window of that kind is known, and never below zero", () => {
    expect(tightest([window({})], "tokens")).toBeNull();
    expect(tightest([window({ remaining: 1, inFlight: 4 })], "requests")?.left).toBe(0);
  });
});

describe("each chain's capacity", () => {
  it("lists each entry in chain order, a row per key, and sums what the ready ones have", () => {
    const limits = {
      generatedAt: NOW,
      entries: [
        state("cerebras", {
          metrics: [
            window({ remaining: 4 }),
            window({ kind: "tokens", remaining: 900, limit: 1000 }),
          ],
        }),
        state("groq", { metrics: [window({ remaining: 20 })] }),
        state("groq", {
          keyLabel: "key#2",
          metrics: [window({ remaining: 0 })],
          status: "exhausted",
        }),
      ],
    };

    const [main, fast] = chainCapacity(CHAINS, limits, NOW);

    expect(main?.rows.map((row) => `${row.provider}:${row.keyLabel ?? "-"}`)).toEqual([
      "groq:…abcd",
      "groq:key#2",
      "cerebras:…abcd",
      "mistral:-",
    ]);
    expect(main?.rows[2]?.tokens).toMatchObject({ left: 900, limit: 1000 });
    expect(main?.readyRows).toBe(3);
    expect(main?.requestsLeft).toBe(24);
    expect(main?.unknownRows).toBe(1);
    expect(main?.isDefault).toBe(true);
    expect(fast?.requestsLeft).toBe(4);
    expect(fast?.unknownRows).toBe(0);
  });

  it("counts an entry cooling down or set aside as not ready, whatever its windows say", () => {
    const limits = {
      generatedAt: NOW,
      entries: [
        state("groq", { cooldownUntil: NOW + 5_000, reason: "HTTP 429", metrics: [window({})] }),
        state("cerebras", { disabled: "key refused", metrics: [window({})] }),
        state("mistral", { cooldownUntil: NOW - 1, metrics: [window({ remaining: 2 })] }),
      ],
    };

    const [main] = chainCapacity(CHAINS, limits, NOW);

    expect(main?.rows.map((row) => row.ready)).toEqual([false, false, true]);
    expect(main?.rows[0]).toMatchObject({ reason: "HTTP 429", cooldownUntil: NOW + 5_000 });
    expect(main?.rows[1]?.reason).toBe("key refused");
    expect(main?.rows[2]?.cooldownUntil).toBeNull();
    expect(main?.requestsLeft).toBe(2);
  });
});
