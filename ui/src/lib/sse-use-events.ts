import { useEffect, useRef } from "react";

import { useApiClient } from "./api-context";
import type { SseEvent } from "./sse-parser";
import { followEventStream } from "./sse-stream";

export type LiveEventKind = "request" | "limits" | "config";

export interface LiveEventHandlers {
  /** Each event of the kinds followed, its data parsed from JSON. */
  onEvent: (kind: LiveEventKind, data: unknown) => void;
  /** Each (re)connection: re-read what the events update, since nothing is replayed. */
  onOpen?: () => void;
}

function parsed(event: SseEvent): unknown {
  try {
    return JSON.parse(event.data);
  } catch {
    return undefined;
  }
}

/** Follows `/api/events` for `kinds` while the component is mounted (the stream is aborted on
 * unmount). The handlers may change between renders without reopening the stream. */
export function useLiveEvents(kinds: readonly LiveEventKind[], handlers: LiveEventHandlers): void {
  const client = useApiClient();
  const latest = useRef(handlers);
  useEffect(() => {
    latest.current = handlers;
  });
  const query = kinds.join(",");
  useEffect(() => {
    const controller = new AbortController();
    const wanted = new Set(query.split(","));
    void followEventStream({
      client,
      path: `/api/events?kinds=${query}`,
      signal: controller.signal,
      onOpen: () => latest.current.onOpen?.(),
      onEvent: (event) => {
        if (wanted.has(event.event)) {
          latest.current.onEvent(event.event as LiveEventKind, parsed(event));
        }
      },
    });
    return () => {
      controller.abort();
    };
  }, [client, query]);
}
