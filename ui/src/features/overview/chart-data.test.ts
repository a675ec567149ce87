import { describe, expect, it } from "vitest";

import type { SeriesAnswer, SeriesPoint, StatsFigures, TotalsAnswer } from "./api/types";
import { CHART_METRICS, chartData, describeTotals, groupName } from "./chart-data";

const EMPTY: StatsFigures = {
  requests: 0,
  errors: 0,
  errorRate: 0,
  fallthroughs: 0,
  fallthroughRate: 0,
  clientClosed: 0,
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  latencyAvgMs: null,
  latencyP50Ms: null,
  latencyP95Ms: null,
  ttftP50Ms: null,
  ttftP95Ms: null,
};

function point(t: number, changes: Partial<StatsFigures> = {}): SeriesPoint {
  return { t, ...EMPTY, ...changes };
}

const SERIES: SeriesAnswer = {
  from: 0,
  to: 180_000,
  groupBy: "provider",
  bucket: "minute",
  bucketSeconds: 60,
  data: [
    {
      key: { provider: "groq" },
      points: [point(0), point(60_000, { requests: 1 }), point(120_000)],
    },
    {
      key: { provider: "cerebras" },
      points: [
        point(0, { requests: 2, totalTokens: 40, latencyP95Ms: 120 }),
        point(60_000, { requests: 3, totalTokens: 60, latencyP95Ms: 80 }),
        point(120_000),
      ],
    },
    { key: { provider: null }, points: [point(0), point(60_000), point(120_000, { requests: 1 })] },
  ],
};

describe("a chart's data", () => {
  it("has a row per bucket and a column per group, busiest group first", () => {
    const { groups, rows } = chartData(SERIES, "requests");

    expect(groups).toEqual(["cerebras", "(no provider)", "groq"]);
    expect(rows).toEqual([
      { t: 0, cerebras: 2, groq: 0, "(no provider)": 0 },
      { t: 60_000, cerebras: 3, groq: 1, "(no provider)": 0 },
      { t: 120_000, cerebras: 0, groq: 0, "(no provider)": 1 },
    ]);
  });

  it("leaves a gap, not a zero, where a bucket has no latency", () => {
    const { rows } = chartData(SERIES, "latencyP95Ms");

    expect(rows.map((row) => row.cerebras)).toEqual([120, 80, null]);
  });

  it("names chains, and requests without a provider or chain", () => {
    expect(groupName({ chain: "fast" })).toBe("fast");
    expect(groupName({ chain: null })).toBe("(no chain)");
    expect(groupName({ provider: null })).toBe("(no provider)");
  });
});

describe("a chart in words", () => {
  const totals: TotalsAnswer = {
    from: 0,
    to: 1,
    groupBy: "chain",
    data: [
      { key: { chain: "default" }, ...EMPTY, requests: 1200, totalTokens: 5 },
      { key: { chain: "fast" }, ...EMPTY, requests: 3 },
    ],
  };

  it("gives each group's figure over the range", () => {
    expect(describeTotals(totals, CHART_METRICS[0])).toBe(
      `Requests over the range, default: ${(1200).toLocaleString()} requests; fast: 3 requests.`,
    );
    expect(describeTotals(totals, CHART_METRICS[2])).toContain("fast: none");
  });

  it("says when there is nothing", () => {
    expect(describeTotals({ ...totals, data: [] }, CHART_METRICS[0])).toBe(
      "No requests in this range.",
    );
  });
});
