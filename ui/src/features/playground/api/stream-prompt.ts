import { useCallback, useEffect, useReducer, useRef } from "react";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import { ApiError } from "../../../lib/api-error";
import { readSseEvents, type SseEvent } from "../../../lib/sse-parser";
import { IDLE_RUN, runReducer, type RunAction, type RunState } from "../prompt-run";
import {
  deltaSchema,
  promptResultSchema,
  streamErrorSchema,
  type PromptResult,
  type PromptTestBody,
} from "./prompt-test-types";

export const SERVING_HEADER = "X-429chain-Provider";
export const STREAM_CUT = "The stream ended before its result came.";

type Dispatch = (action: RunAction) => void;

function parseJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

function resultOf(value: unknown): PromptResult | null {
  const parsed = promptResultSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

function take(event: SseEvent, dispatch: Dispatch, now: () => number): void {
  const data = parseJson(event.data);
  if (event.event === "delta") {
    const delta = deltaSchema.safeParse(data);
    if (delta.success) {
      dispatch({ type: "delta", ...delta.data, at: now() });
    }
  } else if (event.event === "error") {
    const error = streamErrorSchema.safeParse(data);
    const message = error.success ? error.data.error.message : "The stream broke.";
    dispatch({ type: "streamError", message });
  } else if (event.event === "result") {
    const result = resultOf(data);
    if (result === null) {
      const error = { message: "The proxy's result could not be read.", field: null };
      dispatch({ type: "failed", error, result: null, at: now() });
    } else {
      dispatch({ type: "result", result, at: now() });
    }
  }
}

async function readEvents(
  response: Response,
  dispatch: Dispatch,
  now: () => number,
): Promise<void> {
  if (response.body === null) {
    return;
  }
  await readSseEvents(response.body, (event) => {
    take(event, dispatch, now);
  });
}

/** Sends a prompt to `POST /api/test` as a stream and tells `dispatch` what comes: the serving
 * entry when the stream starts, each piece of text, the result with every attempt. A refusal
 * or a prompt no entry served is a `failed` action with the API's message (and the attempts,
 * when the waterfall made some); an abort through `signal` is `stopped`. */
export async function streamPrompt(
  client: ApiClient,
  body: PromptTestBody,
  dispatch: Dispatch,
  signal: AbortSignal,
  now: () => number = Date.now,
): Promise<void> {
  dispatch({ type: "start", at: now() });
  try {
    const response = await client.open("/api/test", {
      method: "POST",
      body: JSON.stringify(body),
      signal,
    });
    if (response.headers.get("Content-Type")?.startsWith("application/json") === true) {
      const result = resultOf(await response.json());
      if (result !== null) {
        dispatch({ type: "result", result, at: now() });
      }
      return;
    }
    dispatch({ type: "served", entry: response.headers.get(SERVING_HEADER) });
    await readEvents(response, dispatch, now);
    // Without a `result` event (the connection dropped) the run still has to end.
    const cut = { message: STREAM_CUT, field: null };
    dispatch({ type: "failed", error: cut, result: null, at: now() });
  } catch (error) {
    if (signal.aborted) {
      dispatch({ type: "stopped", at: now() });
    } else if (error instanceof ApiError) {
      const failure = { message: error.message, field: error.field };
      dispatch({ type: "failed", error: failure, result: resultOf(error.body), at: now() });
    } else {
      const message = error instanceof Error ? error.message : String(error);
      dispatch({ type: "failed", error: { message, field: null }, result: null, at: now() });
    }
  }
}

/** One playground run at a time: `send` starts one (stopping any before it), `stop` cuts it.
 * Leaving the page stops it too. */
export function useStreamPrompt(): {
  run: RunState;
  send: (body: PromptTestBody) => void;
  stop: () => void;
} {
  const client = useApiClient();
  const [run, dispatch] = useReducer(runReducer, IDLE_RUN);
  const controller = useRef<AbortController | null>(null);

  const stop = useCallback(() => {
    if (controller.current !== null) {
      controller.current.abort();
      controller.current = null;
      dispatch({ type: "stopped", at: Date.now() });
    }
  }, []);

  const send = useCallback(
    (body: PromptTestBody) => {
      controller.current?.abort();
      const current = new AbortController();
      controller.current = current;
      // A run replaced or stopped says nothing more: its late events would land on the next.
      const own: Dispatch = (action) => {
        if (!current.signal.aborted) {
          dispatch(action);
        }
      };
      void streamPrompt(client, body, own, current.signal).finally(() => {
        if (controller.current === current) {
          controller.current = null;
        }
      });
    },
    [client],
  );

  useEffect(() => stop, [stop]);

  return { run, send, stop };
}
