import type { StatsFigures } from "../api/types";
import { formatCount, formatMs, formatRate } from "../format";

interface Figure {
  label: string;
  value: string;
  detail: string;
}

function figures(totals: StatsFigures): Figure[] {
  return [
    { label: "Requests", value: formatCount(totals.requests), detail: "answered or failed" },
    {
      label: "Tokens",
      value: formatCount(totals.totalTokens),
      detail: [
        `${formatCount(totals.promptTokens)} prompt`,
        `${formatCount(totals.completionTokens)} completion`,
      ].join(" · "),
    },
    {
      label: "Fall-through rate",
      value: formatRate(totals.fallthroughRate),
      detail: `${formatCount(totals.fallthroughs)} needed more than one entry`,
    },
    {
      label: "Errors",
      value: formatCount(totals.errors),
      detail: `${formatRate(totals.errorRate)} of requests`,
    },
    {
      label: "Latency p50 / p95",
      value: `${formatMs(totals.latencyP50Ms)} / ${formatMs(totals.latencyP95Ms)}`,
      detail: "whole request",
    },
    {
      label: "Time to first token p50 / p95",
      value: `${formatMs(totals.ttftP50Ms)} / ${formatMs(totals.ttftP95Ms)}`,
      detail: "streamed requests",
    },
  ];
}

/** The range's totals as a row of figures, each with what it counts. */
export function TotalsPanel({ totals }: { totals: StatsFigures }) {
  return (
    <dl className="totals" aria-label="Totals">
      {figures(totals).map((figure) => (
        <div key={figure.label} className="total" data-total={figure.label}>
          <dt>{figure.label}</dt>
          <dd className="total-value">{figure.value}</dd>
          <dd className="muted">{figure.detail}</dd>
        </div>
      ))}
    </dl>
  );
}
