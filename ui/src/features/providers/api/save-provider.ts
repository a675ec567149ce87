import { useMutation, useQueryClient } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import { getProvidersQueryOptions } from "./get-providers";
import type { ProviderBody, ProviderView } from "./provider-types";

export interface SaveProviderInput {
  body: ProviderBody;
  /** The provider's id before this edit; null: a new provider. */
  existingId: string | null;
  /** The `ETag` of the last read, sent as `If-Match`. */
  etag: string | null;
}

function ifMatch(etag: string | null): HeadersInit {
  return etag === null ? {} : { "If-Match": etag };
}

/** Adds a provider (`POST`), or replaces one (`PUT`) under its existing id. */
export function saveProvider(client: ApiClient, input: SaveProviderInput): Promise<ProviderView> {
  const creating = input.existingId === null;
  const path = creating
    ? "/api/providers"
    : `/api/providers/${encodeURIComponent(input.existingId ?? "")}`;
  return client.request<ProviderView>(path, {
    method: creating ? "POST" : "PUT",
    headers: ifMatch(input.etag),
    body: JSON.stringify(input.body),
  });
}

export function useSaveProvider() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: SaveProviderInput) => saveProvider(client, input),
    onSuccess: () =>
      queryClient.invalidateQueries({ queryKey: getProvidersQueryOptions(client).queryKey }),
  });
}
