import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient } from "../lib/api-client";
import { useApiClient } from "../lib/api-context";

export interface ProviderModels {
  provider: string;
  models: { id: string; ownedBy: string | null }[];
  fetchedAt: string;
}

/** What a provider offers, read from its own `/models` (the proxy keeps it a few minutes). */
export function getProviderModels(client: ApiClient, provider: string): Promise<ProviderModels> {
  return client.request<ProviderModels>(`/api/providers/${encodeURIComponent(provider)}/models`);
}

export function getProviderModelsQueryOptions(client: ApiClient, provider: string) {
  return queryOptions({
    queryKey: ["providers", provider, "models"],
    queryFn: () => getProviderModels(client, provider),
    enabled: provider !== "",
    staleTime: 300_000,
  });
}

export function useProviderModels(provider: string) {
  return useQuery(getProviderModelsQueryOptions(useApiClient(), provider));
}
