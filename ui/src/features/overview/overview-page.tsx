import "./overview.css";

import { lazy, Suspense, useState } from "react";

import { ApiError } from "../../lib/api-error";
import { useChains } from "./api/get-chains";
import { useRateLimits } from "../../api/get-ratelimits";
import { useSeries } from "./api/get-series";
import { useTotals } from "./api/get-totals";
import { useFollowOverview } from "./api/follow-overview";
import { chainCapacity } from "./capacity";
import { CHART_METRICS, type ChartMetric, type ChartMetricId } from "./chart-data";
import { ChainCapacityTable } from "./components/capacity-panel";
import { GettingStarted } from "./components/getting-started";
import { OverviewControls } from "./components/overview-controls";
import { TotalsPanel } from "./components/totals-panel";
import { DEFAULT_RANGE, findRange, type RangeId, type StatsRange } from "./stats-range";

type TotalsQuery = ReturnType<typeof useTotals>;

/** The charts and Recharts with them arrive after the figures, which need neither. */
const UsageChart = lazy(() => import("./components/usage-chart"));

/** The API's code when `settings.recordUsage` is off: there are no statistics to show. */
const RECORDING_OFF = "usage_recording_off";

/** Why a figure cannot be shown, with the field the API named and, for recording turned off,
 * how to turn it on. */
function Problem({ error }: { error: Error | null }) {
  if (error === null) {
    return null;
  }
  const api = error instanceof ApiError ? error : null;
  return (
    <p role="alert" className="error">
      {error.message}
      {api?.field == null ? null : ` (${api.field})`}
      {api?.code === RECORDING_OFF
        ? ". Turn recordUsage on, on the Settings page or in the config file (it applies after a" +
          " restart), and the figures and charts fill from then on."
        : null}
    </p>
  );
}

function Totals({ totals, defaultChain }: { totals: TotalsQuery; defaultChain: string }) {
  if (totals.isPending) {
    return <p role="status">Loading totals…</p>;
  }
  if (totals.isError) {
    return <Problem error={totals.error} />;
  }
  const figures = totals.data.data[0];
  if (figures === undefined || figures.requests === 0) {
    return <GettingStarted chain={defaultChain} />;
  }
  return <TotalsPanel totals={figures} />;
}

function Chart({
  range,
  metric,
  groupBy,
  title,
}: {
  range: StatsRange;
  metric: ChartMetric;
  groupBy: "provider" | "chain";
  title: string;
}) {
  const series = useSeries(range, groupBy);
  const totals = useTotals(range, groupBy);
  if (series.isPending || totals.isPending) {
    return <p role="status">Loading {title.toLowerCase()}…</p>;
  }
  if (series.isError || totals.isError) {
    return <Problem error={series.error ?? totals.error} />;
  }
  return (
    <Suspense fallback={<p role="status">Loading {title.toLowerCase()}…</p>}>
      <UsageChart
        title={title}
        series={series.data}
        totals={totals.data}
        metric={metric}
        spanMs={range.spanMs}
      />
    </Suspense>
  );
}

function Capacity() {
  const chains = useChains();
  const limits = useRateLimits();
  if (chains.isPending || limits.isPending) {
    return <p role="status">Loading capacity…</p>;
  }
  if (chains.isError || limits.isError) {
    return <Problem error={chains.error ?? limits.error} />;
  }
  const capacities = chainCapacity(chains.data, limits.data, limits.data.generatedAt);
  if (capacities.length === 0) {
    return <p className="muted">No chains yet: add one on the Chains page.</p>;
  }
  return (
    <>
      {capacities.map((capacity) => (
        <ChainCapacityTable key={capacity.chain} capacity={capacity} />
      ))}
    </>
  );
}

export default function OverviewPage() {
  const [rangeId, setRangeId] = useState<RangeId>(DEFAULT_RANGE);
  const [metricId, setMetricId] = useState<ChartMetricId>("requests");
  const chains = useChains();
  useFollowOverview();
  const range = findRange(rangeId);
  const metric = CHART_METRICS.find((option) => option.id === metricId) ?? CHART_METRICS[0];
  const defaultChain = chains.data?.chains.find((chain) => chain.isDefault)?.name ?? "default";
  const totals = useTotals(range, "none");

  return (
    <section className="page overview" aria-labelledby="page-title">
      <h1 id="page-title">Overview</h1>
      <p className="muted">
        Traffic, latency and the free capacity left in each chain, updated live.
      </p>
      <OverviewControls
        range={rangeId}
        metric={metricId}
        onRange={setRangeId}
        onMetric={setMetricId}
      />
      <section aria-labelledby="totals-title">
        <h2 id="totals-title">{range.label}</h2>
        <Totals totals={totals} defaultChain={defaultChain} />
      </section>
      {totals.isError ? null : (
        <section aria-labelledby="charts-title">
          <h2 id="charts-title">{metric.label} over time</h2>
          <div className="charts">
            <Chart
              range={range}
              metric={metric}
              groupBy="provider"
              title={`${metric.label} per provider`}
            />
            <Chart
              range={range}
              metric={metric}
              groupBy="chain"
              title={`${metric.label} per chain`}
            />
          </div>
        </section>
      )}
      <section aria-labelledby="capacity-title">
        <h2 id="capacity-title">Free capacity now</h2>
        <p className="muted">
          Per chain, each entry&apos;s requests and tokens left in its tightest limit, until that
          limit resets.
        </p>
        <Capacity />
      </section>
    </section>
  );
}
