import type { ApiClient } from "./api-client";
import { ApiError } from "./api-error";
import { readSseEvents, type SseEvent } from "./sse-parser";

/** Waits before each reconnection: 0.5 s, doubling up to 15 s, back to the start once a stream
 * opened. */
export const RECONNECT_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000, 8000, 15_000];

export interface EventStreamOptions {
  client: ApiClient;
  path: string;
  onEvent: (event: SseEvent) => void;
  /** Called each time a stream opens (first time or after a reconnection): the moment to re-read
   * the current picture, since the server replays nothing. */
  onOpen?: () => void;
  signal: AbortSignal;
  delays?: readonly number[];
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function readOnce(options: EventStreamOptions): Promise<void> {
  const response = await options.client.open(options.path, {
    headers: { Accept: "text/event-stream" },
    signal: options.signal,
  });
  if (response.body === null) {
    return;
  }
  options.onOpen?.();
  await readSseEvents(response.body, options.onEvent);
}

/** Follows a server-sent event stream through the API client (a browser `EventSource` cannot
 * send the admin key) until `signal` aborts, reconnecting with backoff when it ends or fails.
 * A refused key (401) ends it: the client has already returned to sign-in. */
export async function followEventStream(options: EventStreamOptions): Promise<void> {
  const delays = options.delays ?? RECONNECT_DELAYS_MS;
  const wait = options.wait ?? pause;
  let failures = 0;
  let opens = 0;
  const onOpen = () => {
    opens += 1;
    options.onOpen?.();
  };
  while (!options.signal.aborted) {
    const before = opens;
    try {
      await readOnce({ ...options, onOpen });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        return;
      }
    }
    failures = opens > before ? 0 : failures + 1;
    const delay = delays[Math.min(failures, delays.length - 1)] ?? 0;
    await wait(delay, options.signal);
  }
}
