import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient, Versioned } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import type { ProviderView } from "./provider-types";

export interface ProviderList {
  providers: ProviderView[];
}

export function getProviders(client: ApiClient): Promise<Versioned<ProviderList>> {
  return client.requestVersioned<ProviderList>("/api/providers");
}

export function getProvidersQueryOptions(client: ApiClient) {
  return queryOptions({
    queryKey: ["providers"],
    queryFn: () => getProviders(client),
  });
}

export function useProviders() {
  return useQuery(getProvidersQueryOptions(useApiClient()));
}
