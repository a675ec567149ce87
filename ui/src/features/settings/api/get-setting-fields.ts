import { queryOptions, useQuery } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";
import { settingsFieldsSchema, type SettingsFields } from "./setting-types";

/** Every setting with its meaning, and whether a change could be saved now. */
export async function getSettingFields(client: ApiClient): Promise<SettingsFields> {
  return settingsFieldsSchema.parse(await client.request<unknown>("/api/settings/fields"));
}

export function getSettingFieldsQueryOptions(client: ApiClient) {
  return queryOptions({
    queryKey: ["settings", "fields"],
    queryFn: () => getSettingFields(client),
  });
}

export function useSettingFields() {
  return useQuery(getSettingFieldsQueryOptions(useApiClient()));
}
