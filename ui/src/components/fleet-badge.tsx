import "./fleet-badge.css";

import { useReplicas, type Replicas } from "../api/get-replicas";

/** The badge's words for what `/api/replicas` answered; null when there is no fleet to show
 * (the memory store: one process). */
export function fleetSummary(answer: Replicas): string | null {
  switch (answer.stateStore) {
    case "memory":
      return null;
    case "local":
      return "Redis unreachable: this replica only";
    case "shared": {
      const count = answer.replicas.length;
      return `Shared through Redis · ${count} ${count === 1 ? "replica" : "replicas"}`;
    }
  }
}

/** Says the dashboard shows a fleet (replicas sharing Redis), and lists its replicas. */
export function FleetBadge() {
  const { data } = useReplicas();
  if (data === undefined) {
    return null;
  }
  const summary = fleetSummary(data);
  if (summary === null) {
    return null;
  }
  return (
    <details className={`fleet-badge fleet-${data.stateStore}`}>
      <summary>
        {summary.split(" · ").map((part, index) => (
          <span key={part} className="fleet-line">
            {index > 0 ? <span className="visually-hidden"> · </span> : null}
            {part}
          </span>
        ))}
      </summary>
      <ul className="replica-list" aria-label="Replicas">
        {data.replicas.map((replica) => (
          <li key={replica.id}>
            <code>{replica.id}</code>
            {replica.id === data.selfId ? " (this one)" : null}
            <br />
            <span className="muted">
              {replica.host} · pid {replica.pid} · v{replica.version}
            </span>
          </li>
        ))}
      </ul>
    </details>
  );
}
