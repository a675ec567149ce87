import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient, Versioned } from "../lib/api-client";
import { useApiClient } from "../lib/api-context";
import type { ChainView } from "./chain-types";

export interface ChainList {
  chains: ChainView[];
}

export function getChains(client: ApiClient): Promise<Versioned<ChainList>> {
  return client.requestVersioned<ChainList>("/api/chains");
}

export function getChainsQueryOptions(client: ApiClient) {
  return queryOptions({ queryKey: ["chains"], queryFn: () => getChains(client) });
}

export function useChains() {
  return useQuery(getChainsQueryOptions(useApiClient()));
}
