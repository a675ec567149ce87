import { describe, expect, it } from "vitest";

import type { EntryProbe } from "./api/probe-chain";
import type { Attempt } from "./api/prompt-test-types";
import {
  attemptReason,
  attemptSummary,
  formatMs,
  outcomeLabel,
  probeDetail,
} from "./attempt-format";

function attempt(outcome: string, reason = ""): Attempt {
  const entry = { position: 0, provider: "a", model: "m", keyLabel: null };
  return { ...entry, outcome, status: null, reason, latencyMs: 1 };
}

function probe(overrides: Partial<EntryProbe>): EntryProbe {
  return {
    position: 0,
    provider: "a",
    model: "m",
    status: "ok",
    keyLabel: null,
    latencyMs: 12,
    httpStatus: 200,
    outcome: "served",
    response: "Hello",
    error: null,
    reason: null,
    availableInMs: null,
    ...overrides,
  };
}

describe("attempts in words", () => {
  it("names outcomes the way a user says them", () => {
    expect(outcomeLabel("rate_limited")).toBe("rate limited");
    expect(outcomeLabel("skipped")).toBe("skipped");
    expect(outcomeLabel("something_new")).toBe("something new");
  });

  it("gives an attempt's reason, else its outcome", () => {
    const limited = attempt("rate_limited", "HTTP 429: slow down");
    expect(attemptReason(limited)).toBe("HTTP 429: slow down");
    expect(attemptReason(attempt("timeout"))).toBe("timed out");
    expect(attemptReason(attempt("served"))).toBe("—");
  });

  it("formats milliseconds and says when there are none", () => {
    expect(formatMs(null)).toBe("—");
    expect(formatMs(12.6)).toBe("13 ms");
    expect(formatMs(12_345)).toBe("12.3 s");
  });

  it("sums up how the attempts went", () => {
    expect(attemptSummary([])).toBe("No entry was tried.");
    expect(attemptSummary([attempt("served")])).toBe("Served by the first entry tried.");
    expect(attemptSummary([attempt("rate_limited"), attempt("served")])).toBe(
      "Fell through 1 entry before one served.",
    );
    expect(attemptSummary([attempt("skipped"), attempt("server_error")])).toBe(
      "No entry served: 2 entries tried or skipped.",
    );
  });

  it("says why each probed entry went as it did", () => {
    expect(probeDetail(probe({}))).toBe("Hello");
    const limited = probe({ status: "error", error: "HTTP 429: slow down", httpStatus: 429 });
    expect(probeDetail(limited)).toBe("HTTP 429: slow down");
    const refused = probe({ status: "error", error: "connection refused", httpStatus: null });
    expect(probeDetail(refused)).toBe("connection refused");
    expect(probeDetail(probe({ status: "error", error: "bad gateway", httpStatus: 502 }))).toBe(
      "bad gateway (HTTP 502)",
    );
    const skipped = probe({ status: "skipped", reason: "cooling down", availableInMs: 30_000 });
    expect(probeDetail(skipped)).toBe("cooling down; free in 30.0 s");
  });
});
