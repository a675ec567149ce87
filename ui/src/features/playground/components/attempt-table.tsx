import type { Attempt } from "../api/prompt-test-types";
import { attemptReason, formatMs, outcomeLabel } from "../attempt-format";

/** Every entry the waterfall considered for a run, in order, with why it went past it. */
export function AttemptTable({ attempts }: { attempts: readonly Attempt[] }) {
  return (
    <table className="attempts playground-attempts" aria-label="Attempts">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Entry</th>
          <th scope="col">Key</th>
          <th scope="col">Outcome</th>
          <th scope="col">Status</th>
          <th scope="col">Latency</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((attempt, index) => (
          <tr key={index} data-outcome={attempt.outcome}>
            <td>{attempt.position + 1}</td>
            <td>
              {attempt.provider}/{attempt.model}
            </td>
            <td>{attempt.keyLabel ?? "—"}</td>
            <td>{outcomeLabel(attempt.outcome)}</td>
            <td>{attempt.status ?? "—"}</td>
            <td>{formatMs(attempt.latencyMs)}</td>
            <td className="playground-reason">{attemptReason(attempt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
