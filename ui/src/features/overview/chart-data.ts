import type { GroupKey, SeriesAnswer, StatsFigures, TotalsAnswer } from "./api/types";

/** The figures a chart can draw over time. */
export const CHART_METRICS = [
  { id: "requests", label: "Requests", unit: "requests" },
  { id: "totalTokens", label: "Tokens", unit: "tokens" },
  { id: "latencyP95Ms", label: "Latency p95", unit: "ms" },
] as const;

export type ChartMetric = (typeof CHART_METRICS)[number];
export type ChartMetricId = ChartMetric["id"];

/** A group's name as the charts show it; requests no provider served have none. */
export function groupName(key: GroupKey): string {
  const value = key.provider ?? key.chain;
  return value ?? (("provider" in key) ? "(no provider)" : "(no chain)");
}

/** One point in time of a chart: `t` and each group's figure, null where it has none. */
export type ChartRow = { t: number } & Record<string, number | null>;

export interface ChartData {
  groups: string[];
  rows: ChartRow[];
}

/** The series as Recharts reads it: one row per bucket with a column per group, groups
 * ordered by their total over the range (busiest first, so the legend reads as a ranking). */
export function chartData(series: SeriesAnswer, metric: ChartMetricId): ChartData {
  const named = series.data.map((group) => ({
    name: groupName(group.key),
    points: group.points,
    weight: group.points.reduce((sum, point) => sum + point.requests, 0),
  }));
  named.sort((a, b) => b.weight - a.weight || a.name.localeCompare(b.name));
  const rows = new Map<number, ChartRow>();
  for (const group of named) {
    for (const point of group.points) {
      const row = rows.get(point.t) ?? { t: point.t };
      row[group.name] = figure(point, metric);
      rows.set(point.t, row);
    }
  }
  return {
    groups: named.map((group) => group.name),
    rows: [...rows.values()].sort((a, b) => a.t - b.t),
  };
}

/** A bucket's figure; latency of a bucket without requests is no point, not zero. */
function figure(point: StatsFigures, metric: ChartMetricId): number | null {
  return point[metric];
}

/** The chart in words, for who cannot see it: each group's figure over the whole range. */
export function describeTotals(totals: TotalsAnswer, metric: ChartMetric): string {
  if (totals.data.length === 0) {
    return "No requests in this range.";
  }
  const parts = totals.data.map((row) => {
    const value = row[metric.id];
    const figure = value === null ? "none" : `${value.toLocaleString()} ${metric.unit}`;
    return `${groupName(row.key)}: ${figure}`;
  });
  return `${metric.label} over the range, ${parts.join("; ")}.`;
}
