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

/** What one configured chain would do now: `next` the entry a request would use (null when
 * none can serve now), `freeAt` when the soonest entry frees up if none can (epoch ms; null
 * when one can, or none will by itself), `queued` its queue depth. */
export interface ChainOutlook {
  name: string;
  isDefault: boolean;
  queued: number;
  next: { provider: string; model: string } | null;
  freeAt: number | null;
}

/** Whose limit state an answer shows: `memory` one process's, `shared` every replica's
 * (through Redis), `local` this replica's alone while Redis is unreachable. */
export type StateStoreView = "memory" | "shared" | "local";

export interface RateLimits {
  generatedAt: number;
  /** Absent from a proxy before the fleet view. */
  stateStore?: StateStoreView;
  entries: LimitEntry[];
  queue: QueueState;
  /** Per configured chain, in configuration order (absent from a proxy before it). */
  chains?: ChainOutlook[];
}
