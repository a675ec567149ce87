import { describe, expect, it } from "vitest";

import type { PromptResult } from "./api/prompt-test-types";
import {
  IDLE_RUN,
  isRunning,
  runReducer,
  runTimings,
  type RunAction,
  type RunState,
} from "./prompt-run";

function result(overrides: Partial<PromptResult> = {}): PromptResult {
  return {
    requestId: "test_1",
    chain: "default",
    status: 200,
    text: "Hello",
    servedBy: { provider: "b", model: "b-model", keyLabel: "…3456" },
    attempts: [],
    tokens: { prompt: 5, completion: 2, total: 7 },
    latencyMs: 120,
    ttftMs: 40,
    queuedMs: null,
    ...overrides,
  };
}

function fold(actions: RunAction[], state: RunState = IDLE_RUN): RunState {
  return actions.reduce(runReducer, state);
}

describe("a playground run", () => {
  it("grows its text with each delta and knows its entry from the start", () => {
    const run = fold([
      { type: "start", at: 1000 },
      { type: "served", entry: "a/a-model" },
      { type: "delta", text: "Hel", reasoning: false, at: 1030 },
      { type: "delta", text: "lo", reasoning: false, at: 1050 },
    ]);

    expect(run.phase).toBe("streaming");
    expect(run.text).toBe("Hello");
    expect(run.servedBy).toBe("a/a-model");
    expect(isRunning(run)).toBe(true);
    expect(runTimings(run)).toEqual({ ttftMs: 30, totalMs: null });
  });

  it("keeps reasoning apart from the answer", () => {
    const run = fold([
      { type: "start", at: 0 },
      { type: "delta", text: "Hmm", reasoning: true, at: 5 },
      { type: "delta", text: "Yes", reasoning: false, at: 9 },
    ]);

    expect(run.reasoning).toBe("Hmm");
    expect(run.text).toBe("Yes");
    expect(run.firstTextAt).toBe(5);
  });

  it("ends with the result: the proxy's timings, its serving entry, its attempts", () => {
    const run = fold([
      { type: "start", at: 0 },
      { type: "delta", text: "Hello", reasoning: false, at: 10 },
      { type: "result", result: result(), at: 200 },
    ]);

    expect(run.phase).toBe("done");
    expect(run.servedBy).toBe("b/b-model");
    expect(runTimings(run)).toEqual({ ttftMs: 40, totalMs: 120 });
    expect(isRunning(run)).toBe(false);
  });

  it("takes the text of a result that came whole", () => {
    const run = fold([
      { type: "start", at: 0 },
      { type: "result", result: result({ text: "Whole" }), at: 5 },
    ]);

    expect(run.text).toBe("Whole");
  });

  it("fails with the error of a result no entry served, keeping its attempts", () => {
    const error = { message: "All entries exhausted.", type: "rate_limit_error", param: null };
    const run = fold([
      { type: "start", at: 0 },
      { type: "result", result: result({ status: 429, servedBy: null, text: null, error }), at: 5 },
    ]);

    expect(run.phase).toBe("failed");
    expect(run.error).toEqual({ message: "All entries exhausted.", field: null });
    expect(run.result?.status).toBe(429);
  });

  it("fails with the API's message and field when the prompt is refused", () => {
    const run = fold([
      { type: "start", at: 0 },
      {
        type: "failed",
        error: { message: "Provider 'x' not found.", field: "provider" },
        result: null,
        at: 3,
      },
    ]);

    expect(run.phase).toBe("failed");
    expect(run.error?.field).toBe("provider");
    expect(runTimings(run)).toEqual({ ttftMs: null, totalMs: 3 });
  });

  it("ignores what a stopped run still hears", () => {
    const run = fold([
      { type: "start", at: 0 },
      { type: "delta", text: "Hel", reasoning: false, at: 10 },
      { type: "stopped", at: 20 },
      { type: "delta", text: "lo", reasoning: false, at: 30 },
      { type: "result", result: result(), at: 40 },
    ]);

    expect(run.phase).toBe("stopped");
    expect(run.text).toBe("Hel");
    expect(runTimings(run)).toEqual({ ttftMs: 10, totalMs: 20 });
  });

  it("keeps the text before an error event broke the stream", () => {
    const run = fold([
      { type: "start", at: 0 },
      { type: "delta", text: "Hel", reasoning: false, at: 10 },
      { type: "streamError", message: "upstream went away" },
    ]);

    expect(run.text).toBe("Hel");
    expect(run.streamError).toBe("upstream went away");
  });

  it("starts afresh on the next prompt", () => {
    const done = fold([{ type: "start", at: 0 }, { type: "result", result: result(), at: 5 }]);

    const next = runReducer(done, { type: "start", at: 100 });

    expect(next).toEqual({ ...IDLE_RUN, phase: "waiting", startedAt: 100 });
  });
});
