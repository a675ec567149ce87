import { describe, expect, it, vi } from "vitest";

import type { ApiClient } from "./api-client";
import { ApiError } from "./api-error";
import type { SseEvent } from "./sse-parser";
import { followEventStream } from "./sse-stream";
import { streamResponse } from "../testing/stream-response";

const streamOf = (chunks: string[]) => streamResponse(chunks);

function clientOpening(answers: (() => Promise<Response>)[]) {
  const open = vi.fn<ApiClient["open"]>(() => {
    const next = answers.shift();
    return next === undefined ? Promise.reject(new ApiError("gone", 0)) : next();
  });
  const client = { open } as unknown as ApiClient;
  return { client, open };
}

describe("following an event stream", () => {
  it("hands on events cut across chunks and reconnects when the stream ends", async () => {
    const controller = new AbortController();
    const events: SseEvent[] = [];
    const opened = vi.fn();
    const waits: number[] = [];
    const { client, open } = clientOpening([
      () => Promise.resolve(streamOf(["event: req", 'uest\ndata: {"a"', ":1}\n", "\n"])),
      () => Promise.reject(new ApiError("Cannot reach the proxy", 0)),
      () => Promise.resolve(streamOf(["event: limits\r", "\ndata: {}\r\n\r\n"])),
    ]);

    await followEventStream({
      client,
      path: "/api/events?kinds=request",
      signal: controller.signal,
      onEvent: (event) => events.push(event),
      onOpen: opened,
      delays: [10, 20, 40],
      wait: (ms) => {
        waits.push(ms);
        if (waits.length === 4) {
          controller.abort();
        }
        return Promise.resolve();
      },
    });

    expect(events).toEqual([
      { event: "request", id: null, data: '{"a":1}' },
      { event: "limits", id: null, data: "{}" },
    ]);
    expect(opened).toHaveBeenCalledTimes(2);
    expect(open).toHaveBeenCalledWith("/api/events?kinds=request", expect.objectContaining({}));
    expect(waits).toEqual([10, 20, 10, 20]);
  });

  it("stops at a refused key instead of retrying", async () => {
    const { client, open } = clientOpening([
      () => Promise.reject(new ApiError("Incorrect API key provided.", 401)),
    ]);

    await followEventStream({
      client,
      path: "/api/events",
      signal: new AbortController().signal,
      onEvent: () => undefined,
      wait: () => Promise.reject(new Error("must not wait")),
    });

    expect(open).toHaveBeenCalledTimes(1);
  });

  it("stops when aborted while waiting to reconnect", async () => {
    const controller = new AbortController();
    const { client, open } = clientOpening([]);

    await followEventStream({
      client,
      path: "/api/events",
      signal: controller.signal,
      onEvent: () => undefined,
      wait: () => {
        controller.abort();
        return Promise.resolve();
      },
    });

    expect(open).toHaveBeenCalledTimes(1);
  });
});
