import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";

/** The chains `defaultChain` may name: only their names, in config order. */
export async function getChainNames(client: ApiClient): Promise<string[]> {
  const answer = await client.request<{ chains: { name: string }[] }>("/api/chains");
  return answer.chains.map((chain) => chain.name);
}

export function getChainNamesQueryOptions(client: ApiClient) {
  return queryOptions({ queryKey: ["chains", "names"], queryFn: () => getChainNames(client) });
}

export function useChainNames() {
  return useQuery(getChainNamesQueryOptions(useApiClient()));
}
