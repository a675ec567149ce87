import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient, Versioned } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import { settingsViewSchema, type SettingsView } from "./setting-types";

/** The settings as the proxy runs them, with the configuration's version (`ETag`). */
export async function getSettings(client: ApiClient): Promise<Versioned<SettingsView>> {
  const answer = await client.requestVersioned<unknown>("/api/settings");
  return { data: settingsViewSchema.parse(answer.data), etag: answer.etag };
}

export function getSettingsQueryOptions(client: ApiClient) {
  return queryOptions({ queryKey: ["settings", "values"], queryFn: () => getSettings(client) });
}

export function useSettings() {
  return useQuery(getSettingsQueryOptions(useApiClient()));
}
