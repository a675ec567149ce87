import type { ChainOutlook, LimitEntry, RateLimits } from "../../../api/ratelimit-types";

export interface EntryName {
  provider: string;
  keyLabel: string;
  model: string;
}

/** A `limits` event: the entries that changed, whole; the ones gone; every chain's queue and
 * outlook (the entry it would use now). */
export interface LimitsEvent {
  generatedAt: number;
  entries: LimitEntry[];
  removed: EntryName[];
  queue: { depth: number; chains: Record<string, number> };
  chains?: ChainOutlook[];
}

export function entryKey(entry: EntryName): string {
  return `${entry.provider}\u0000${entry.keyLabel}\u0000${entry.model}`;
}

/** The picture after a `limits` event: changed entries replaced in place (new ones appended),
 * removed ones dropped, the queue depths and the chains' outlooks replaced. */
export function applyLimitsEvent(current: RateLimits, event: LimitsEvent): RateLimits {
  const changed = new Map(event.entries.map((entry) => [entryKey(entry), entry]));
  const removed = new Set(event.removed.map(entryKey));
  const entries: LimitEntry[] = [];
  for (const entry of current.entries) {
    const key = entryKey(entry);
    if (removed.has(key)) {
      continue;
    }
    entries.push(changed.get(key) ?? entry);
    changed.delete(key);
  }
  entries.push(...changed.values());
  const chains = event.chains ?? current.chains;
  return {
    generatedAt: event.generatedAt,
    entries,
    queue: { ...current.queue, depth: event.queue.depth, chains: event.queue.chains },
    ...(chains === undefined ? {} : { chains }),
  };
}
