import type { PromptResult } from "./api/prompt-test-types";

/** Where one playground run is: sent and waiting for an entry (`waiting`), its text coming in
 * (`streaming`), ended by its result (`done`), refused or unserved (`failed`), or cut by the
 * user (`stopped`). */
export type RunPhase = "idle" | "waiting" | "streaming" | "done" | "failed" | "stopped";

export interface RunError {
  message: string;
  field: string | null;
}

export interface RunState {
  phase: RunPhase;
  text: string;
  reasoning: string;
  /** `provider/model` of the entry serving the stream, known from its first byte. */
  servedBy: string | null;
  result: PromptResult | null;
  error: RunError | null;
  /** An error event that broke the stream after some text came. */
  streamError: string | null;
  startedAt: number | null;
  firstTextAt: number | null;
  endedAt: number | null;
}

export type RunAction =
  | { type: "start"; at: number }
  | { type: "served"; entry: string | null }
  | { type: "delta"; text: string; reasoning: boolean; at: number }
  | { type: "streamError"; message: string }
  | { type: "result"; result: PromptResult; at: number }
  | { type: "failed"; error: RunError; result: PromptResult | null; at: number }
  | { type: "stopped"; at: number };

export const IDLE_RUN: RunState = {
  phase: "idle",
  text: "",
  reasoning: "",
  servedBy: null,
  result: null,
  error: null,
  streamError: null,
  startedAt: null,
  firstTextAt: null,
  endedAt: null,
};

function ended(state: RunState): boolean {
  return state.phase === "done" || state.phase === "failed" || state.phase === "stopped";
}

/** Folds the events of a run into what the page shows. Once a run has ended, late events (a
 * stream read after Stop) change nothing. */
export function runReducer(state: RunState, action: RunAction): RunState {
  if (action.type === "start") {
    return { ...IDLE_RUN, phase: "waiting", startedAt: action.at };
  }
  if (ended(state) || state.phase === "idle") {
    return state;
  }
  switch (action.type) {
    case "served":
      return { ...state, phase: "streaming", servedBy: action.entry };
    case "delta": {
      const firstTextAt = state.firstTextAt ?? action.at;
      return action.reasoning
        ? { ...state, phase: "streaming", reasoning: state.reasoning + action.text, firstTextAt }
        : { ...state, phase: "streaming", text: state.text + action.text, firstTextAt };
    }
    case "streamError":
      return { ...state, streamError: action.message };
    case "result": {
      const served = action.result.servedBy;
      return {
        ...state,
        phase: action.result.error === undefined ? "done" : "failed",
        result: action.result,
        text: state.text === "" ? (action.result.text ?? "") : state.text,
        servedBy: served === null ? state.servedBy : `${served.provider}/${served.model}`,
        error:
          action.result.error === undefined
            ? null
            : { message: action.result.error.message, field: action.result.error.param ?? null },
        endedAt: action.at,
      };
    }
    case "failed":
      return {
        ...state,
        phase: "failed",
        error: action.error,
        result: action.result,
        endedAt: action.at,
      };
    case "stopped":
      return { ...state, phase: "stopped", endedAt: action.at };
  }
}

export function isRunning(state: RunState): boolean {
  return state.phase === "waiting" || state.phase === "streaming";
}

export interface RunTimings {
  ttftMs: number | null;
  totalMs: number | null;
}

/** Time to first token and total time: the proxy's own figures once the result came, else
 * (a stopped run) as the page saw them. */
export function runTimings(state: RunState): RunTimings {
  if (state.result !== null) {
    return { ttftMs: state.result.ttftMs, totalMs: state.result.latencyMs };
  }
  const start = state.startedAt;
  if (start === null) {
    return { ttftMs: null, totalMs: null };
  }
  return {
    ttftMs: state.firstTextAt === null ? null : state.firstTextAt - start,
    totalMs: state.endedAt === null ? null : state.endedAt - start,
  };
}
