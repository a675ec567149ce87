import { cleanup, render, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ApiClient } from "./api-client";
import { ApiClientContext } from "./api-context";
import { useLiveEvents, type LiveEventKind } from "./sse-use-events";

function openStream() {
  let push: (text: string) => void = () => undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const encoder = new TextEncoder();
      push = (text) => {
        controller.enqueue(encoder.encode(text));
      };
    },
  });
  return {
    response: new Response(body),
    push: (text: string) => {
      push(text);
    },
  };
}

function Follower({ onEvent }: { onEvent: (kind: LiveEventKind, data: unknown) => void }) {
  useLiveEvents(["request"], { onEvent });
  return null;
}

afterEach(cleanup);

describe("following live events from a component", () => {
  it("hands on parsed events of its kinds and aborts the stream on unmount", async () => {
    const stream = openStream();
    const open = vi.fn<ApiClient["open"]>(() => Promise.resolve(stream.response));
    const client = { open } as unknown as ApiClient;
    const onEvent = vi.fn<(kind: LiveEventKind, data: unknown) => void>();

    const view = render(
      <ApiClientContext value={client}>
        <Follower onEvent={onEvent} />
      </ApiClientContext>,
    );
    await waitFor(() => {
      expect(open).toHaveBeenCalledTimes(1);
    });
    stream.push('event: hello\ndata: {}\n\nevent: request\ndata: {"requestId":"r1"}\n\n');

    await waitFor(() => {
      expect(onEvent).toHaveBeenCalledWith("request", { requestId: "r1" });
    });
    expect(onEvent).toHaveBeenCalledTimes(1);
    expect(open.mock.calls[0]?.[0]).toBe("/api/events?kinds=request");
    const signal = open.mock.calls[0]?.[1]?.signal;

    view.unmount();

    expect(signal?.aborted).toBe(true);
  });
});
