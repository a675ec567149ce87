import { attemptSummary, formatMs } from "../attempt-format";
import { runTimings, type RunState } from "../prompt-run";
import { AttemptTable } from "./attempt-table";

function status(run: RunState): string {
  switch (run.phase) {
    case "waiting":
      return "Waiting for an entry to answer…";
    case "streaming":
      return run.servedBy === null ? "Streaming…" : `Streaming from ${run.servedBy}…`;
    case "done":
      return "Done.";
    case "failed":
      return run.result === null ? "No answer." : `No answer (HTTP ${String(run.result.status)}).`;
    case "stopped":
      return "Stopped.";
    case "idle":
      return "";
  }
}

/** A run as it goes: the entry serving it, the answer growing, then how long it took and every
 * attempt the waterfall made. */
export function RunOutput({ run }: { run: RunState }) {
  if (run.phase === "idle") {
    return null;
  }
  const timings = runTimings(run);
  const attempts = run.result?.attempts ?? [];
  return (
    <section className="playground-run" aria-labelledby="run-heading">
      <h2 id="run-heading">Answer</h2>
      <p role="status" className="playground-status">
        {status(run)}
      </p>
      {run.servedBy !== null && (
        <p>
          Serving entry: <strong data-testid="serving-entry">{run.servedBy}</strong>
          {run.result?.servedBy?.keyLabel != null && (
            <span className="muted"> (key {run.result.servedBy.keyLabel})</span>
          )}
        </p>
      )}
      {run.error !== null && (
        <p className="form-error" role="alert">
          {run.error.message}
        </p>
      )}
      {run.reasoning !== "" && (
        <details className="playground-reasoning">
          <summary>Reasoning</summary>
          <pre>{run.reasoning}</pre>
        </details>
      )}
      {(run.text !== "" || run.phase === "streaming") && (
        <div
          role="region"
          className="playground-answer"
          aria-label="Answer text"
          aria-busy={run.phase === "streaming"}
        >
          {run.text}
        </div>
      )}
      {run.streamError !== null && (
        <p className="form-error" role="alert">
          The stream broke: {run.streamError}
        </p>
      )}
      <dl className="playground-timings">
        <div>
          <dt>Time to first token</dt>
          <dd>{formatMs(timings.ttftMs)}</dd>
        </div>
        <div>
          <dt>Total time</dt>
          <dd>{formatMs(timings.totalMs)}</dd>
        </div>
        {run.result?.tokens.total != null && (
          <div>
            <dt>Tokens</dt>
            <dd>{run.result.tokens.total}</dd>
          </div>
        )}
      </dl>
      {run.result !== null && (
        <>
          <h3>Attempts</h3>
          <p className="muted">{attemptSummary(attempts)}</p>
          {attempts.length > 0 && <AttemptTable attempts={attempts} />}
        </>
      )}
    </section>
  );
}
