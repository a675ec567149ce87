import { useState } from "react";

import { TableScroll } from "../../components/table-scroll";
import { ApiError } from "../../lib/api-error";

import { useFollowRequests } from "./api/follow-requests";
import { useRequests } from "./api/get-requests";
import { NO_FILTERS, type RequestFilters } from "./api/types";
import { RequestFiltersForm } from "./components/request-filters";
import { RequestLogRow } from "./components/request-row";

export default function RequestsPage() {
  const [filters, setFilters] = useState<RequestFilters>(NO_FILTERS);
  const log = useRequests(filters);
  useFollowRequests();

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Requests</h1>
      <p className="muted">The newest requests first; new ones appear as they finish.</p>
      <RequestFiltersForm filters={filters} onChange={setFilters} />
      {log.isPending ? <p role="status">Loading…</p> : null}
      {log.isError ? <LogError error={log.error} /> : null}
      {log.data?.data.length === 0 ? <EmptyLog filtered={Object.values(filters).some((value) => value !== "")} /> : null}
      {log.data !== undefined && log.data.data.length > 0 ? (
        <TableScroll label="Request log">
          <table className="log" aria-label="Request log">
            <thead>
              <tr>
                <th>
                  <span className="visually-hidden">Details</span>
                </th>
                <th>Time</th>
                <th>Chain</th>
                <th>Served by</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Tokens</th>
                <th>Latency</th>
              </tr>
            </thead>
            <tbody>
              {log.data.data.map((row) => (
                <RequestLogRow key={row.requestId} row={row} />
              ))}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
    </section>
  );
}

/** The code of the API's answer when `settings.recordUsage` is off: no log is kept. */
const RECORDING_OFF = "usage_recording_off";

/** Why the log cannot be shown; recording turned off is a setting to change, not a failure. */
function LogError({ error }: { error: Error }) {
  if (error instanceof ApiError && error.code === RECORDING_OFF) {
    return (
      <p role="status">
        No request log: usage recording is off (<code>settings.recordUsage: false</code>). Turn it
        on, on the Settings page or in the config file, and requests are logged from then on.
      </p>
    );
  }
  const field = error instanceof ApiError ? error.field : null;
  return (
    <p role="alert" className="error">
      {error.message}
      {field === null ? null : ` (${field})`}
    </p>
  );
}

/** What an empty log means, and what to do about it. */
function EmptyLog({ filtered }: { filtered: boolean }) {
  if (filtered) {
    return <p>No requests match these filters. Clear a filter to see more.</p>;
  }
  return (
    <p>
      No requests yet. Send one through the proxy (<code>POST /v1/chat/completions</code> with a
      client key) and it appears here as it finishes.
    </p>
  );
}
