import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient } from "../lib/api-client";
import { useApiClient } from "../lib/api-context";

/** The providers a chain entry may name: only their ids, for the entry picker. */
export async function getProviderIds(client: ApiClient): Promise<string[]> {
  const answer = await client.request<{ providers: { id: string }[] }>("/api/providers");
  return answer.providers.map((provider) => provider.id);
}

export function getProviderIdsQueryOptions(client: ApiClient) {
  return queryOptions({ queryKey: ["providers", "ids"], queryFn: () => getProviderIds(client) });
}

export function useProviderIds() {
  return useQuery(getProviderIdsQueryOptions(useApiClient()));
}
