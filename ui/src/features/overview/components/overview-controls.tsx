import { CHART_METRICS, type ChartMetricId } from "../chart-data";
import { RANGES, type RangeId } from "../stats-range";

interface OverviewControlsProps {
  range: RangeId;
  metric: ChartMetricId;
  onRange: (range: RangeId) => void;
  onMetric: (metric: ChartMetricId) => void;
}

/** The range the totals and charts cover, and the figure the charts draw. */
export function OverviewControls({ range, metric, onRange, onMetric }: OverviewControlsProps) {
  return (
    <div className="filters">
      <label>
        Range
        <select
          value={range}
          onChange={(event) => {
            const chosen = RANGES.find((option) => option.id === event.target.value);
            if (chosen !== undefined) {
              onRange(chosen.id);
            }
          }}
        >
          {RANGES.map((option) => (
            <option key={option.id} value={option.id}>
              {option.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Charts show
        <select
          value={metric}
          onChange={(event) => {
            const chosen = CHART_METRICS.find((option) => option.id === event.target.value);
            if (chosen !== undefined) {
              onMetric(chosen.id);
            }
          }}
        >
          {CHART_METRICS.map((option) => (
            <option key={option.id} value={option.id}>
              {option.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
