/** One limit of an entry: a request or token window, from headers, a body, the config, a key
 * info call or learned from 429s. Times are epoch milliseconds. */
export interface LimitMetric {
  kind: string;
  window: string;
  scope: string;
  limit: number | null;
  remaining: number | null;
  inFlight: number;
  resetAt: number | null;
  source: string;
  updatedAt: number | null;
  raw: Record<string, string>;
}

export type EntryStatus = "available" | "tracking" | "failing" | "exhausted";

/** One (provider, key label, model) as `/api/ratelimits` and `limits` events show it. */
export interface LimitEntry {
  provider: string;
  keyLabel: string;
  model: string;
  status: EntryStatus;
  cooldownUntil: number | null;
  reason: string | null;
  disabled: string | null;
  inFlight: number;
  metrics: LimitMetric[];
}

export interface QueueState {
  enabled?: boolean;
  maxSize?: number;
  maxWaitMs?: number;
  depth: number;
  chains: Record<string, number>;
}

export interface RateLimits {
  generatedAt: number;
  entries: LimitEntry[];
  queue: QueueState;
}

export interface EntryName {
  provider: string;
  keyLabel: string;
  model: string;
}

/** A `limits` event: the entries that changed, whole; the ones gone; every chain's queue. */
export interface LimitsEvent {
  generatedAt: number;
  entries: LimitEntry[];
  removed: EntryName[];
  queue: { depth: number; chains: Record<string, number> };
}

export function entryKey(entry: EntryName): string {
  return `${entry.provider}\u0000${entry.keyLabel}\u0000${entry.model}`;
}

/** The picture after a `limits` event: changed entries replaced in place (new ones appended),
 * removed ones dropped, the queue depths replaced. */
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
  return {
    generatedAt: event.generatedAt,
    entries,
    queue: { ...current.queue, depth: event.queue.depth, chains: event.queue.chains },
  };
}
