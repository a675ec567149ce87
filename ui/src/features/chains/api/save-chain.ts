import { useMutation, useQueryClient } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import type { ChainEntry, ChainView } from "../../../api/chain-types";
import { getChainsQueryOptions } from "../../../api/get-chains";

export interface SaveChainInput {
  name: string;
  entries: ChainEntry[];
  /** True: `POST` a new chain (409 if it exists); false: `PUT` its entries in this order. */
  creating: boolean;
  etag: string | null;
}

export function saveChain(client: ApiClient, input: SaveChainInput): Promise<ChainView> {
  const headers: HeadersInit = input.etag === null ? {} : { "If-Match": input.etag };
  if (input.creating) {
    return client.request<ChainView>("/api/chains", {
      method: "POST",
      headers,
      body: JSON.stringify({ name: input.name, entries: input.entries }),
    });
  }
  return client.request<ChainView>(`/api/chains/${encodeURIComponent(input.name)}`, {
    method: "PUT",
    headers,
    body: JSON.stringify({ entries: input.entries }),
  });
}

export function useSaveChain() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: SaveChainInput) => saveChain(client, input),
    onSettled: () =>
      queryClient.invalidateQueries({ queryKey: getChainsQueryOptions(client).queryKey }),
  });
}
