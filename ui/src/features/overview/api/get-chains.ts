import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import type { ChainsAnswer } from "./types";

export function getChains(client: ApiClient): Promise<ChainsAnswer> {
  return client.request<ChainsAnswer>("/api/chains");
}

/** The chains and their entries in order; `config` events refetch them. */
export function getChainsQueryOptions(client: ApiClient) {
  return queryOptions({ queryKey: ["overview", "chains"], queryFn: () => getChains(client) });
}

export function useChains() {
  const client = useApiClient();
  return useQuery(getChainsQueryOptions(client));
}
