import type { EntryProbe } from "./api/probe-chain";
import type { Attempt } from "./api/prompt-test-types";

const OUTCOME_LABELS: Record<string, string> = {
  served: "served",
  skipped: "skipped",
  rate_limited: "rate limited",
  payment_required: "out of credit",
  auth_failed: "key refused",
  not_found: "model not found",
  rejected: "request rejected",
  server_error: "server error",
  timeout: "timed out",
  connect_error: "could not connect",
  bad_response: "bad response",
  in_band_error: "error in the answer",
  mid_stream_failure: "broke mid-stream",
  client_closed: "stopped by the client",
  internal_error: "internal error",
  shutdown: "proxy shutting down",
};

/** An attempt's outcome in words (`rate_limited` → "rate limited"); an unknown one as sent. */
export function outcomeLabel(outcome: string): string {
  return OUTCOME_LABELS[outcome] ?? outcome.replaceAll("_", " ");
}

/** Milliseconds as the page shows them: "—" when unknown, whole ms under 10 s, else seconds. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) {
    return "—";
  }
  return ms < 10_000 ? `${String(Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Why the waterfall went past an attempt: its reason, else its outcome ("—" for the one that
 * served without a word to say). */
export function attemptReason(attempt: Attempt): string {
  if (attempt.reason !== "") {
    return attempt.reason;
  }
  return attempt.outcome === "served" ? "—" : outcomeLabel(attempt.outcome);
}

/** "served by groq/llama after 2 attempts" style summary of how a run's attempts went. */
export function attemptSummary(attempts: readonly Attempt[]): string {
  const fellThrough = attempts.filter((attempt) => attempt.outcome !== "served").length;
  if (attempts.length === 0) {
    return "No entry was tried.";
  }
  if (fellThrough === 0) {
    return "Served by the first entry tried.";
  }
  const entries = fellThrough === 1 ? "1 entry" : `${String(fellThrough)} entries`;
  return attempts.some((attempt) => attempt.outcome === "served")
    ? `Fell through ${entries} before one served.`
    : `No entry served: ${entries} tried or skipped.`;
}

/** A probed entry's result in words. */
export const RESULT_LABELS: Record<EntryProbe["status"], string> = {
  ok: "ok",
  error: "failed",
  skipped: "skipped",
};

/** Why an entry's probe went as it did: the answer's text, the failure, or why it was skipped
 * and when it frees up. */
export function probeDetail(probe: EntryProbe): string {
  if (probe.status === "ok") {
    return probe.response ?? "";
  }
  if (probe.status === "error") {
    const reason = probe.error ?? (probe.outcome === null ? "failed" : outcomeLabel(probe.outcome));
    const status = probe.httpStatus === null ? "" : String(probe.httpStatus);
    return status === "" || reason.includes(status) ? reason : `${reason} (HTTP ${status})`;
  }
  const reason = probe.reason ?? "cannot serve now";
  const free = probe.availableInMs;
  return free === null ? reason : `${reason}; free in ${formatMs(free)}`;
}

