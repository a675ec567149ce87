import { TableScroll } from "../../components/table-scroll";

import { useFollowLimits } from "./api/follow-limits";
import { useRateLimits } from "../../api/get-ratelimits";
import type { ChainOutlook, LimitEntry, QueueState } from "../../api/ratelimit-types";
import { entryKey } from "./api/types";
import { ChainOutlookRow } from "./components/chain-outlook-row";
import { LimitEntryRow } from "./components/limit-entry-row";
import { ViewScope } from "./components/view-scope";

/** Per chain: the entry it would use now and how many requests wait in its queue. */
function Chains({ chains, queue }: { chains: ChainOutlook[]; queue: QueueState }) {
  return (
    <section aria-labelledby="chains-title">
      <h2 id="chains-title">Chains</h2>
      <p>
        {queue.enabled === false ? "Queueing is off. " : null}
        {queue.depth} waiting in all.
      </p>
      {chains.length === 0 ? null : (
        <TableScroll label="Chains: the entry each would use now">
          <table className="limits chain-outlooks" aria-label="Chains: the entry each would use now">
            <thead>
              <tr>
                <th>Chain</th>
                <th>Would use now</th>
                <th>Waiting</th>
              </tr>
            </thead>
            <tbody>
              {chains.map((chain) => (
                <ChainOutlookRow key={chain.name} chain={chain} />
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </section>
  );
}

/** Each entry's limits; with none, what makes entries appear. */
function EntryTable({ entries }: { entries: LimitEntry[] }) {
  if (entries.length === 0) {
    return (
      <p>
        No entries yet. Add a provider on the Providers page and put its models in a chain on the
        Chains page: each entry&apos;s limits, cooldowns and countdowns then show here.
      </p>
    );
  }
  return (
    <TableScroll label="Limits per entry">
      <table className="limits" aria-label="Limits per entry">
        <thead>
          <tr>
            <th>Entry</th>
            <th>Key</th>
            <th>Status</th>
            <th>Cooldown</th>
            <th>In flight</th>
            <th>Limits</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <LimitEntryRow key={entryKey(entry)} entry={entry} />
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

export default function LimitsPage() {
  const limits = useRateLimits();
  useFollowLimits();

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Limits</h1>
      <p className="muted">Every entry&apos;s limits, cooldowns and queues, updated live.</p>
      {limits.isPending ? <p role="status">Loading…</p> : null}
      {limits.isError ? (
        <p role="alert" className="error">
          {limits.error.message}
        </p>
      ) : null}
      {limits.data === undefined ? null : (
        <>
          <ViewScope view={limits.data.stateStore} />
          <EntryTable entries={limits.data.entries} />
          <Chains chains={limits.data.chains ?? []} queue={limits.data.queue} />
        </>
      )}
    </section>
  );
}
