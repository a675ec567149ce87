import { describe, expect, it, vi } from "vitest";

import { createApiClient } from "../../../lib/api-client";
import { IDLE_RUN, runReducer, type RunAction, type RunState } from "../prompt-run";
import { STREAM_CUT, streamPrompt } from "./stream-prompt";
import { streamResponse } from "../../../testing/stream-response";

const RESULT = {
  requestId: "test_1",
  chain: "default",
  status: 200,
  text: "Hello",
  servedBy: { provider: "b", model: "b-model", keyLabel: "…3456" },
  attempts: [
    {
      position: 0,
      provider: "a",
      model: "a-model",
      keyLabel: "…1111",
      outcome: "rate_limited",
      status: 429,
      reason: "HTTP 429: slow down",
      latencyMs: 3,
    },
    {
      position: 1,
      provider: "b",
      model: "b-model",
      keyLabel: "…3456",
      outcome: "served",
      status: 200,
      reason: "",
      latencyMs: 9,
    },
  ],
  tokens: { prompt: 5, completion: 2, total: 7 },
  latencyMs: 20,
  ttftMs: 8,
  queuedMs: null,
};

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A stream answer cut into `chunks` exactly as given (so events arrive split). */
function streamAnswer(chunks: string[]): Response {
  return streamResponse(chunks, { "X-429chain-Provider": "b/b-model" });
}

async function run(answer: Response, signal = new AbortController().signal) {
  const send = vi.fn<typeof fetch>(() => Promise.resolve(answer));
  const keys = { read: () => "adm", save: vi.fn(), clear: vi.fn() };
  const client = createApiClient({ keys, onUnauthorized: vi.fn(), fetch: send });
  const actions: RunAction[] = [];
  let clock = 0;
  const body = { chain: "default", prompt: "Hi", stream: true } as const;
  await streamPrompt(client, body, (a) => actions.push(a), signal, () => (clock += 10));
  const state: RunState = actions.reduce(runReducer, IDLE_RUN);
  return { send, actions, state };
}

describe("streaming a prompt", () => {
  it("posts the prompt and folds the stream into the serving entry, text and result", async () => {
    const whole =
      frame("delta", { text: "Hel", reasoning: false }) +
      frame("delta", { text: "lo", reasoning: false });
    const { send, actions, state } = await run(
      streamAnswer([whole.slice(0, 17), whole.slice(17), frame("result", RESULT)]),
    );

    const [path, init] = send.mock.calls[0] ?? [];
    expect(path).toBe("/api/test");
    expect(init?.method).toBe("POST");
    const sent: unknown = JSON.parse(init?.body as string);
    expect(sent).toEqual({ chain: "default", prompt: "Hi", stream: true });
    expect(actions.map((a) => a.type)).toEqual([
      "start",
      "served",
      "delta",
      "delta",
      "result",
      "failed",
    ]);
    expect(state.phase).toBe("done");
    expect(state.text).toBe("Hello");
    expect(state.servedBy).toBe("b/b-model");
    expect(state.result?.attempts.map((a) => a.outcome)).toEqual(["rate_limited", "served"]);
  });

  it("ends a stream cut before its result as failed", async () => {
    const { state } = await run(streamAnswer([frame("delta", { text: "Hel", reasoning: false })]));

    expect(state.phase).toBe("failed");
    expect(state.error?.message).toBe(STREAM_CUT);
    expect(state.text).toBe("Hel");
  });

  it("shows an error event that broke the stream", async () => {
    const { state } = await run(
      streamAnswer([
        frame("error", { error: { message: "upstream went away", type: "api_error" } }),
        frame("result", RESULT),
      ]),
    );

    expect(state.streamError).toBe("upstream went away");
  });

  it("fails with the API's message and the attempts when no entry served", async () => {
    const error = { message: "All entries exhausted.", type: "rate_limit_error", param: null };
    const failure = { ...RESULT, status: 429, servedBy: null, text: null, error };
    const headers = { "Content-Type": "application/json" };
    const answer = new Response(JSON.stringify(failure), { status: 429, headers });

    const { state } = await run(answer);

    expect(state.phase).toBe("failed");
    expect(state.error).toEqual({ message: "All entries exhausted.", field: null });
    expect(state.result?.attempts).toHaveLength(2);
  });

  it("fails with the field an invalid body names", async () => {
    const refusal = {
      error: { message: "Provider 'x' not found.", type: "not_found_error", param: "provider" },
    };
    const { state } = await run(new Response(JSON.stringify(refusal), { status: 404 }));

    expect(state.error).toEqual({ message: "Provider 'x' not found.", field: "provider" });
    expect(state.result).toBeNull();
  });

  it("is stopped, not failed, when its signal aborts", async () => {
    const controller = new AbortController();
    const send = vi.fn<typeof fetch>(() => {
      controller.abort();
      return Promise.reject(new DOMException("aborted", "AbortError"));
    });
    const keys = { read: () => "adm", save: vi.fn(), clear: vi.fn() };
    const client = createApiClient({ keys, onUnauthorized: vi.fn(), fetch: send });
    const actions: RunAction[] = [];

    const body = { chain: "c", prompt: "Hi", stream: true } as const;
    await streamPrompt(client, body, (a) => actions.push(a), controller.signal);

    expect(actions.map((a) => a.type)).toEqual(["start", "stopped"]);
  });
});
