import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import type { RateLimitsAnswer } from "./types";

export function getRateLimits(client: ApiClient): Promise<RateLimitsAnswer> {
  return client.request<RateLimitsAnswer>("/api/ratelimits");
}

/** Every entry's limit windows; `limits` events refetch them, and a slow interval catches
 * in-flight counts, which alone send no event. */
export function getRateLimitsQueryOptions(client: ApiClient) {
  return queryOptions({
    queryKey: ["overview", "ratelimits"],
    queryFn: () => getRateLimits(client),
    refetchInterval: 15_000,
  });
}

export function useRateLimits() {
  const client = useApiClient();
  return useQuery(getRateLimitsQueryOptions(client));
}
