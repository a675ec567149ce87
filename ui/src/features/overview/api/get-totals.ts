import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import { alignedBounds, type StatsRange } from "../stats-range";
import { OVERVIEW_STATS_KEY } from "./stats-keys";
import type { GroupBy, TotalsAnswer } from "./types";

export function getTotals(
  client: ApiClient,
  range: StatsRange,
  groupBy: GroupBy,
  now: number,
): Promise<TotalsAnswer> {
  const { from, to } = alignedBounds(range, now);
  const params = new URLSearchParams({ from: String(from), to: String(to), groupBy });
  return client.request<TotalsAnswer>(`/api/stats/totals?${params.toString()}`);
}

/** Totals over `range` up to the moment of each fetch; `request` events refetch them, and
 * the interval moves the range along when nothing happens. */
export function getTotalsQueryOptions(client: ApiClient, range: StatsRange, groupBy: GroupBy) {
  return queryOptions({
    queryKey: [...OVERVIEW_STATS_KEY, "totals", range.id, groupBy],
    queryFn: () => getTotals(client, range, groupBy, Date.now()),
    refetchInterval: 30_000,
  });
}

export function useTotals(range: StatsRange, groupBy: GroupBy) {
  const client = useApiClient();
  return useQuery(getTotalsQueryOptions(client, range, groupBy));
}
