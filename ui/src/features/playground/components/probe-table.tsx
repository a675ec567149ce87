import type { ChainProbe } from "../api/probe-chain";
import { RESULT_LABELS, formatMs, probeDetail } from "../attempt-format";

/** "Test every entry": one row per entry of the chain with its result. */
export function ProbeTable({ probe }: { probe: ChainProbe }) {
  const { summary } = probe;
  return (
    <section className="playground-probe" aria-labelledby="probe-heading">
      <h2 id="probe-heading">Every entry of {probe.chain}</h2>
      <p className="muted">
        {summary.ok} ok, {summary.failed} failed, {summary.skipped} skipped of {summary.total}.
      </p>
      <table className="attempts" aria-label="Entry results">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Entry</th>
            <th scope="col">Result</th>
            <th scope="col">Latency</th>
            <th scope="col">Answer or reason</th>
          </tr>
        </thead>
        <tbody>
          {probe.results.map((result) => (
            <tr key={result.position} data-entry={`${result.provider}/${result.model}`}>
              <td>{result.position + 1}</td>
              <td>
                {result.provider}/{result.model}
              </td>
              <td className={`probe-${result.status}`}>{RESULT_LABELS[result.status]}</td>
              <td>{formatMs(result.latencyMs)}</td>
              <td className="playground-reason">{probeDetail(result)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
