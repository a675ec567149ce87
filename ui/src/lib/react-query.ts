import { QueryClient } from "@tanstack/react-query";

import { ApiError } from "./api-error";

/** A refusal (4xx) will be the same on a retry; an unreachable or failing proxy may not be. */
function retryable(failures: number, error: unknown): boolean {
  const refused = error instanceof ApiError && error.status >= 400 && error.status < 500;
  return !refused && failures < 2;
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: retryable, staleTime: 10_000, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}
