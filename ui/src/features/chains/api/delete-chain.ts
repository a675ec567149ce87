import { useMutation, useQueryClient } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import { getChainsQueryOptions } from "../../../api/get-chains";

export interface DeleteChainInput {
  name: string;
  etag: string | null;
}

export function deleteChain(client: ApiClient, input: DeleteChainInput): Promise<unknown> {
  return client.request(`/api/chains/${encodeURIComponent(input.name)}`, {
    method: "DELETE",
    headers: input.etag === null ? {} : { "If-Match": input.etag },
  });
}

export function useDeleteChain() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: DeleteChainInput) => deleteChain(client, input),
    onSuccess: () =>
      queryClient.invalidateQueries({ queryKey: getChainsQueryOptions(client).queryKey }),
  });
}
