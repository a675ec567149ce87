import { useMutation, useQueryClient } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import { getProvidersQueryOptions } from "./get-providers";

export interface DeleteProviderInput {
  id: string;
  etag: string | null;
}

export function deleteProvider(client: ApiClient, input: DeleteProviderInput): Promise<unknown> {
  return client.request(`/api/providers/${encodeURIComponent(input.id)}`, {
    method: "DELETE",
    headers: input.etag === null ? {} : { "If-Match": input.etag },
  });
}

export function useDeleteProvider() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: DeleteProviderInput) => deleteProvider(client, input),
    onSuccess: () =>
      queryClient.invalidateQueries({ queryKey: getProvidersQueryOptions(client).queryKey }),
  });
}
