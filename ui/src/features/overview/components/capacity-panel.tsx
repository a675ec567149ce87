import { Countdown } from "../../../components/countdown";
import type { CapacityRow, ChainCapacity, Headroom } from "../capacity";
import { formatCount } from "../format";

function HeadroomCell({ headroom }: { headroom: Headroom | null }) {
  if (headroom === null) {
    return <span className="muted">no limit known</span>;
  }
  const per = headroom.window === "unknown" ? "" : ` / ${headroom.window}`;
  return (
    <span>
      <strong>{formatCount(headroom.left)}</strong>
      {headroom.limit === null ? null : (
        <span className="muted">
          {" "}
          of {formatCount(headroom.limit)}
          {per}
        </span>
      )}
      {headroom.resetAt === null ? null : (
        <span className="muted">
          {" "}
          · resets in <Countdown until={headroom.resetAt} />
        </span>
      )}
    </span>
  );
}

function StatusCell({ row }: { row: CapacityRow }) {
  if (row.cooldownUntil !== null) {
    return (
      <span className="status-exhausted">
        {row.reason ?? "cooling down"} · back in <Countdown until={row.cooldownUntil} />
      </span>
    );
  }
  if (!row.ready) {
    return <span className="status-exhausted">{row.reason ?? row.status}</span>;
  }
  return <span className="status-available">ready</span>;
}

function summary(capacity: ChainCapacity): string {
  const entries = `${capacity.readyRows} of ${capacity.rows.length} ready now`;
  if (capacity.readyRows === 0) {
    return `${entries}.`;
  }
  const known = capacity.readyRows - capacity.unknownRows;
  const left =
    known === 0 ? "" : `; ${formatCount(capacity.requestsLeft)} requests left in known limits`;
  const unknown =
    capacity.unknownRows === 0 ? "" : `; ${capacity.unknownRows} without a known request limit`;
  return `${entries}${left}${unknown}.`;
}

/** One chain's free capacity: each entry and key in chain order, with the requests and tokens
 * left until their reset, counting down live. */
export function ChainCapacityTable({ capacity }: { capacity: ChainCapacity }) {
  const titleId = `capacity-${capacity.chain}`;
  return (
    <section className="capacity" aria-labelledby={titleId} data-chain={capacity.chain}>
      <h3 id={titleId}>
        {capacity.chain}
        {capacity.isDefault ? <span className="muted"> · the default chain</span> : null}
      </h3>
      <p className="muted">{summary(capacity)}</p>
      <table className="limits" aria-label={`Capacity of chain ${capacity.chain}`}>
        <thead>
          <tr>
            <th scope="col">Entry</th>
            <th scope="col">Key</th>
            <th scope="col">Now</th>
            <th scope="col">Requests left</th>
            <th scope="col">Tokens left</th>
          </tr>
        </thead>
        <tbody>
          {capacity.rows.map((row) => (
            <tr
              key={`${row.provider}/${row.model}/${row.keyLabel ?? ""}`}
              data-entry={`${row.provider}/${row.model}`}
            >
              <td>
                {row.provider}/{row.model}
              </td>
              <td>{row.keyLabel ?? <span className="muted">—</span>}</td>
              <td>
                <StatusCell row={row} />
              </td>
              <td>
                <HeadroomCell headroom={row.requests} />
              </td>
              <td>
                <HeadroomCell headroom={row.tokens} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
