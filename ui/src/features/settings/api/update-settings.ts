import { useMutation, useQueryClient } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import { settingsChangeSchema, type SettingsPatch } from "./setting-types";

export interface UpdateSettingsInput {
  patch: SettingsPatch;
  /** The `ETag` of the settings the form was filled from, sent as `If-Match`. */
  etag: string | null;
}

/** Changes the settings given; answers the field paths (`settings.port`) that apply only at
 * the next start. */
export async function updateSettings(
  client: ApiClient,
  input: UpdateSettingsInput,
): Promise<string[]> {
  const answer = await client.request<unknown>("/api/settings", {
    method: "PATCH",
    headers: input.etag === null ? {} : { "If-Match": input.etag },
    body: JSON.stringify(input.patch),
  });
  return settingsChangeSchema.parse(answer).restartRequired;
}

export function useUpdateSettings() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: UpdateSettingsInput) => updateSettings(client, input),
    // The configuration's version changed: every versioned read (providers, chains) is stale.
    onSuccess: () => queryClient.invalidateQueries(),
  });
}
