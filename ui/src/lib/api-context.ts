import { createContext, useContext } from "react";

import type { ApiClient } from "./api-client";

export const ApiClientContext = createContext<ApiClient | null>(null);

/** The dashboard's API client; components call the API only through it. */
export function useApiClient(): ApiClient {
  const client = useContext(ApiClientContext);
  if (client === null) {
    throw new Error("useApiClient needs an ApiClientContext provider above it");
  }
  return client;
}
