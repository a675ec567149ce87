import { useId } from "react";
import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

import { TableScroll } from "../../../components/table-scroll";
import type { SeriesAnswer, TotalsAnswer } from "../api/types";
import { chartData, describeTotals, groupName, type ChartMetric } from "../chart-data";
import { formatCount, formatMs, formatRate, formatTick } from "../format";

/** Colours told apart by most eyes, each dark enough for text on white. */
const COLOURS = [
  "#2456c7",
  "#c2410c",
  "#15803d",
  "#7e22ce",
  "#b91c1c",
  "#0e7490",
  "#a16207",
  "#be185d",
];

interface UsageChartProps {
  title: string;
  series: SeriesAnswer;
  totals: TotalsAnswer;
  metric: ChartMetric;
  spanMs: number;
}

function TotalsTable({ totals, caption }: { totals: TotalsAnswer; caption: string }) {
  return (
    <table className="chart-totals">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Requests</th>
          <th scope="col">Tokens</th>
          <th scope="col">Errors</th>
          <th scope="col">Fall-through</th>
          <th scope="col">Latency p95</th>
        </tr>
      </thead>
      <tbody>
        {totals.data.map((row) => (
          <tr key={groupName(row.key)}>
            <th scope="row">{groupName(row.key)}</th>
            <td>{formatCount(row.requests)}</td>
            <td>{formatCount(row.totalTokens)}</td>
            <td>{formatCount(row.errors)}</td>
            <td>{formatRate(row.fallthroughRate)}</td>
            <td>{formatMs(row.latencyP95Ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One figure over time: counts as bars stacked by group, latency as a line per group; with
 * the same figures in words and as a table for who cannot see the chart. */
export default function UsageChart({ title, series, totals, metric, spanMs }: UsageChartProps) {
  const titleId = useId();
  const descriptionId = useId();
  const { groups, rows } = chartData(series, metric.id);
  const format = metric.id === "latencyP95Ms" ? formatMs : formatCount;
  return (
    <figure className="chart" aria-labelledby={titleId} aria-describedby={descriptionId}>
      <figcaption id={titleId} className="chart-title">
        {title}
      </figcaption>
      <p id={descriptionId} className="visually-hidden">
        {describeTotals(totals, metric)}
      </p>
      {groups.length === 0 ? (
        <p className="muted chart-empty">No requests in this range.</p>
      ) : (
        <div className="chart-plot" aria-hidden="true">
          <ResponsiveContainer width="100%" height={240}>
            <ComposedChart
              data={rows}
              margin={{ top: 8, right: 16, bottom: 0, left: 0 }}
              accessibilityLayer={false}
            >
              <CartesianGrid stroke="#e2e5ea" vertical={false} />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={[series.from, series.to]}
                padding={{ left: 6, right: 6 }}
                tickFormatter={(t: number) => formatTick(t, spanMs)}
                minTickGap={24}
                stroke="#5b6475"
              />
              <YAxis allowDecimals={false} tickFormatter={format} width={64} stroke="#5b6475" />
              <Tooltip
                labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
                formatter={(value) => (typeof value === "number" ? format(value) : String(value))}
              />
              <Legend />
              {groups.map((group, index) => {
                const colour = COLOURS[index % COLOURS.length] ?? "#2456c7";
                return metric.id === "latencyP95Ms" ? (
                  <Line
                    key={group}
                    dataKey={group}
                    name={group}
                    stroke={colour}
                    strokeWidth={2}
                    dot={{ r: 2 }}
                    isAnimationActive={false}
                    connectNulls={false}
                  />
                ) : (
                  <Bar
                    key={group}
                    dataKey={group}
                    name={group}
                    stackId="groups"
                    fill={colour}
                    maxBarSize={16}
                    isAnimationActive={false}
                  />
                );
              })}
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      )}
      {totals.data.length === 0 ? null : (
        <details className="chart-table">
          <summary>{title} as a table</summary>
          <TableScroll label={`${title} as a table`}>
            <TotalsTable totals={totals} caption={`${title}: totals over the range`} />
          </TableScroll>
        </details>
      )}
    </figure>
  );
}
