import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import { alignedBounds, type StatsRange } from "../stats-range";
import { OVERVIEW_STATS_KEY } from "./stats-keys";
import type { GroupBy, SeriesAnswer } from "./types";

export function getSeries(
  client: ApiClient,
  range: StatsRange,
  groupBy: GroupBy,
  now: number,
): Promise<SeriesAnswer> {
  const { from, to } = alignedBounds(range, now);
  const params = new URLSearchParams({
    from: String(from),
    to: String(to),
    groupBy,
    bucket: range.bucket,
  });
  return client.request<SeriesAnswer>(`/api/stats/series?${params.toString()}`);
}

/** The series over `range` up to the moment of each fetch, refreshed as the totals are. */
export function getSeriesQueryOptions(client: ApiClient, range: StatsRange, groupBy: GroupBy) {
  return queryOptions({
    queryKey: [...OVERVIEW_STATS_KEY, "series", range.id, groupBy],
    queryFn: () => getSeries(client, range, groupBy, Date.now()),
    refetchInterval: 30_000,
  });
}

export function useSeries(range: StatsRange, groupBy: GroupBy) {
  const client = useApiClient();
  return useQuery(getSeriesQueryOptions(client, range, groupBy));
}
