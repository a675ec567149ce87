import { Fragment } from "react";

import { Countdown } from "../../../components/countdown";
import type { LimitEntry, LimitMetric } from "../../../api/ratelimit-types";

function figure(value: number | null): string {
  return value === null ? "—" : value.toLocaleString();
}

/** An entry's name, which may break after a slash (provider/vendor/model) but never inside a
 * part, so a long name wraps into readable pieces. */
function EntryName({ name }: { name: string }) {
  const parts = name.split("/");
  return parts.map((part, index) => (
    <Fragment key={index}>
      {index > 0 && <wbr />}
      <span className="nowrap">{index < parts.length - 1 ? `${part}/` : part}</span>
    </Fragment>
  ));
}

function MetricLine({ metric }: { metric: LimitMetric }) {
  return (
    <tr>
      <td>
        {metric.kind} / {metric.window}
        {metric.scope === "" ? null : <span className="muted"> ({metric.scope})</span>}
      </td>
      <td>{figure(metric.limit)}</td>
      <td>{figure(metric.remaining)}</td>
      <td>{metric.inFlight}</td>
      <td>{metric.source}</td>
      <td>{metric.resetAt === null ? "—" : <Countdown until={metric.resetAt} />}</td>
    </tr>
  );
}

function Cooldown({ entry }: { entry: LimitEntry }) {
  if (entry.disabled !== null) {
    return <span>set aside: {entry.disabled}</span>;
  }
  if (entry.cooldownUntil === null) {
    return <span className="muted">—</span>;
  }
  return (
    <span>
      {entry.reason ?? "cooling down"} · back in <Countdown until={entry.cooldownUntil} />
    </span>
  );
}

/** One (provider, key label, model): its status, any cooldown or penalty with its reason and
 * countdown, and each of its limits. */
export function LimitEntryRow({ entry }: { entry: LimitEntry }) {
  return (
    <tr data-entry={`${entry.provider}/${entry.model}`} data-key={entry.keyLabel}>
      <td>
        <EntryName name={`${entry.provider}/${entry.model}`} />
      </td>
      <td>{entry.keyLabel}</td>
      <td className={`status-${entry.status}`}>{entry.status}</td>
      <td>
        <Cooldown entry={entry} />
      </td>
      <td>{entry.inFlight}</td>
      <td>
        {entry.metrics.length === 0 ? (
          <span className="muted">no limits known yet</span>
        ) : (
          <table className="attempts">
            <thead>
              <tr>
                <th>Metric</th>
                <th>Limit</th>
                <th>Remaining</th>
                <th>In flight</th>
                <th>Source</th>
                <th>Resets in</th>
              </tr>
            </thead>
            <tbody>
              {entry.metrics.map((metric) => (
                <MetricLine key={`${metric.kind}-${metric.window}-${metric.scope}`} metric={metric} />
              ))}
            </tbody>
          </table>
        )}
      </td>
    </tr>
  );
}
