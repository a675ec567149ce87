import { OUTCOMES, type OutcomeFilter, type RequestFilters } from "../api/types";

const OUTCOME_NAMES: Record<OutcomeFilter, string> = {
  success: "Success",
  "429": "Rate limited (429)",
  "4xx": "Refused (4xx)",
  error: "Any error",
};

function isOutcome(value: string): value is OutcomeFilter {
  return (OUTCOMES as readonly string[]).includes(value);
}

interface RequestFiltersProps {
  filters: RequestFilters;
  onChange: (filters: RequestFilters) => void;
}

export function RequestFiltersForm({ filters, onChange }: RequestFiltersProps) {
  return (
    <form
      className="filters"
      role="search"
      aria-label="Filter requests"
      onSubmit={(event) => {
        event.preventDefault();
      }}
    >
      <label>
        Chain
        <input
          value={filters.chain}
          onChange={(event) => {
            onChange({ ...filters, chain: event.target.value.trim() });
          }}
        />
      </label>
      <label>
        Provider
        <input
          value={filters.provider}
          onChange={(event) => {
            onChange({ ...filters, provider: event.target.value.trim() });
          }}
        />
      </label>
      <label>
        Outcome
        <select
          value={filters.status}
          onChange={(event) => {
            const value = event.target.value;
            onChange({ ...filters, status: isOutcome(value) ? value : "" });
          }}
        >
          <option value="">Any</option>
          {OUTCOMES.map((outcome) => (
            <option key={outcome} value={outcome}>
              {OUTCOME_NAMES[outcome]}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}
