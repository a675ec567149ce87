/** The figures the stats API gives for a group (and, in a series, for one bucket). Latencies
 * are milliseconds, null when no request of the group had one. */
export interface StatsFigures {
  requests: number;
  errors: number;
  errorRate: number;
  fallthroughs: number;
  fallthroughRate: number;
  clientClosed: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  latencyAvgMs: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
}

/** What a group is: its provider or chain (null for requests that no provider served). */
export type GroupKey = Record<string, string | null>;

export type GroupBy = "none" | "provider" | "chain";

/** `/api/stats/totals`: one row per group, busiest first. */
export interface TotalsAnswer {
  from: number;
  to: number;
  groupBy: GroupBy;
  data: (StatsFigures & { key: GroupKey })[];
}

export interface SeriesPoint extends StatsFigures {
  t: number;
}

/** `/api/stats/series`: per group, one point per bucket of the range, empty ones included. */
export interface SeriesAnswer {
  from: number;
  to: number;
  groupBy: GroupBy;
  bucket: string;
  bucketSeconds: number;
  data: { key: GroupKey; points: SeriesPoint[] }[];
}

/** One limit window of an entry, as `/api/ratelimits` shows it; times in epoch milliseconds. */
export interface LimitWindow {
  kind: string;
  window: string;
  scope: string;
  limit: number | null;
  remaining: number | null;
  inFlight: number;
  resetAt: number | null;
}

/** One (provider, key, model) of `/api/ratelimits`, with the fields the Overview reads. */
export interface LimitState {
  provider: string;
  keyLabel: string;
  model: string;
  status: string;
  cooldownUntil: number | null;
  reason: string | null;
  disabled: string | null;
  inFlight: number;
  metrics: LimitWindow[];
}

export interface RateLimitsAnswer {
  generatedAt: number;
  entries: LimitState[];
}

export interface ChainsAnswer {
  chains: { name: string; isDefault: boolean; entries: { provider: string; model: string }[] }[];
}
