/** The ranges the Overview offers, each read in buckets small enough to draw and few enough
 * for the series API (at most 1,440 per group). */
export const RANGES = [
  { id: "1h", label: "Last hour", spanMs: 3_600_000, bucket: "minute" },
  { id: "24h", label: "Last 24 hours", spanMs: 86_400_000, bucket: "hour" },
  { id: "7d", label: "Last 7 days", spanMs: 7 * 86_400_000, bucket: "hour" },
] as const;

export type StatsRange = (typeof RANGES)[number];
export type RangeId = StatsRange["id"];
export type BucketSize = StatsRange["bucket"];

export const BUCKET_MS: Record<BucketSize, number> = { minute: 60_000, hour: 3_600_000 };

export const DEFAULT_RANGE: RangeId = "1h";

export function findRange(id: string): StatsRange {
  return RANGES.find((range) => range.id === id) ?? RANGES[0];
}

/** Epoch milliseconds, `from` inclusive and `to` exclusive, as the stats API takes them. */
export interface Bounds {
  from: number;
  to: number;
}

/** The range ending with the bucket that holds `now`, on bucket boundaries: the series then
 * has exactly span / bucket points (an unaligned 24 h of minutes would be 1,441, which the
 * API refuses), and the totals count the same requests the chart draws. */
export function alignedBounds(range: StatsRange, now: number): Bounds {
  const width = BUCKET_MS[range.bucket];
  const to = Math.floor(now / width) * width + width;
  return { from: to - range.spanMs, to };
}

export function bucketCount(range: StatsRange): number {
  return range.spanMs / BUCKET_MS[range.bucket];
}
