import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient } from "../lib/api-client";
import { useApiClient } from "../lib/api-context";
import type { RateLimits } from "./ratelimit-types";

export function getRateLimits(client: ApiClient): Promise<RateLimits> {
  return client.request<RateLimits>("/api/ratelimits");
}

/** The limit state; `limits` events keep it current, and a slow refetch catches in-flight
 * counts, which alone send no event. */
export function getRateLimitsQueryOptions(client: ApiClient) {
  return queryOptions({
    queryKey: ["ratelimits"],
    queryFn: () => getRateLimits(client),
    refetchInterval: 15_000,
  });
}

export function useRateLimits() {
  const client = useApiClient();
  return useQuery(getRateLimitsQueryOptions(client));
}
