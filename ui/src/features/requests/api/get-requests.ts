import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import type { RequestFilters, RequestPage } from "./types";

export const REQUEST_PAGE_SIZE = 100;

/** The prefix shared by every filtered log's key, for updating them all at once. */
export const REQUESTS_LOG_KEY = ["requests", "log"] as const;

export function getRequests(client: ApiClient, filters: RequestFilters): Promise<RequestPage> {
  const params = new URLSearchParams({ limit: String(REQUEST_PAGE_SIZE) });
  const chosen: [string, string][] = [
    ["chain", filters.chain],
    ["provider", filters.provider],
    ["status", filters.status],
  ];
  for (const [name, value] of chosen) {
    if (value !== "") {
      params.set(name, value);
    }
  }
  return client.request<RequestPage>(`/api/stats/requests?${params.toString()}`);
}

/** The log's newest page; `request` events keep it current, so it never goes stale by itself. */
export function getRequestsQueryOptions(client: ApiClient, filters: RequestFilters) {
  return queryOptions({
    queryKey: [...REQUESTS_LOG_KEY, filters],
    queryFn: () => getRequests(client, filters),
    staleTime: Infinity,
  });
}

export function useRequests(filters: RequestFilters) {
  const client = useApiClient();
  return useQuery(getRequestsQueryOptions(client, filters));
}
