import { Fragment, useState } from "react";

import type { RequestRow } from "../api/types";

const COLUMNS = 8;

function milliseconds(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${Math.round(value)} ms`;
}

function AttemptList({ row }: { row: RequestRow }) {
  return (
    <table className="attempts">
      <thead>
        <tr>
          <th>#</th>
          <th>Entry</th>
          <th>Key</th>
          <th>Outcome</th>
          <th>Status</th>
          <th>Latency</th>
          <th>Reason</th>
        </tr>
      </thead>
      <tbody>
        {row.attempts.map((attempt) => (
          <tr key={attempt.position}>
            <td>{attempt.position + 1}</td>
            <td>
              {attempt.provider}/{attempt.model}
            </td>
            <td>{attempt.keyLabel}</td>
            <td>{attempt.outcome}</td>
            <td>{attempt.status ?? "—"}</td>
            <td>{milliseconds(attempt.latencyMs)}</td>
            <td>{attempt.reason === "" ? "—" : attempt.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One request of the log, with a button that opens its attempts underneath. */
export function RequestLogRow({ row }: { row: RequestRow }) {
  const [open, setOpen] = useState(false);
  const failed = row.status === null || row.status >= 400;
  return (
    <Fragment>
      <tr data-request-id={row.requestId} className={failed ? "failed" : undefined}>
        <td>
          <button
            type="button"
            className="expand"
            aria-expanded={open}
            aria-label={`Attempts of ${row.requestId}`}
            onClick={() => {
              setOpen(!open);
            }}
          >
            {open ? "▾" : "▸"}
          </button>
        </td>
        <td>
          <time dateTime={new Date(row.timestamp).toISOString()}>
            {new Date(row.timestamp).toLocaleTimeString()}
          </time>
        </td>
        <td>{row.chain ?? "—"}</td>
        <td>{row.provider === null ? "—" : `${row.provider}/${row.model ?? ""}`}</td>
        <td>{row.status ?? row.errorClass ?? "—"}</td>
        <td>{row.attemptCount}</td>
        <td>{row.totalTokens ?? "—"}</td>
        <td>{milliseconds(row.latencyMs)}</td>
      </tr>
      {open ? (
        <tr className="attempts-row">
          <td colSpan={COLUMNS}>
            {row.replica === undefined ? null : (
              <p className="muted">
                Served by replica <code>{row.replica}</code>
              </p>
            )}
            <AttemptList row={row} />
          </td>
        </tr>
      ) : null}
    </Fragment>
  );
}
