import type { LimitEntry, LimitMetric } from "../../../api/ratelimit-types";

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

/** The parts of `/api/ratelimits` the Overview reads: an entry's windows and state. */
export type LimitWindow = Pick<
  LimitMetric,
  "kind" | "window" | "scope" | "limit" | "remaining" | "inFlight" | "resetAt"
>;

export type LimitState = Pick<
  LimitEntry,
  "provider" | "keyLabel" | "model" | "status" | "cooldownUntil" | "reason" | "disabled" | "inFlight"
> & { metrics: LimitWindow[] };

export interface RateLimitsAnswer {
  generatedAt: number;
  entries: LimitState[];
}

export interface ChainsAnswer {
  chains: { name: string; isDefault: boolean; entries: { provider: string; model: string }[] }[];
}
