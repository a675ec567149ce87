import { useQueryClient } from "@tanstack/react-query";

import { useApiClient } from "../../../lib/api-context";
import { useLiveEvents } from "../../../lib/sse-use-events";
import { getRateLimitsQueryOptions } from "../../../api/get-ratelimits";
import type { RateLimits } from "../../../api/ratelimit-types";
import { applyLimitsEvent, type LimitsEvent } from "./types";

function isLimitsEvent(data: unknown): data is LimitsEvent {
  return (
    typeof data === "object" &&
    data !== null &&
    "entries" in data &&
    Array.isArray(data.entries) &&
    "removed" in data &&
    Array.isArray(data.removed)
  );
}

/** Keeps the limit state live while mounted: each `limits` event is applied to it; each
 * (re)connection re-reads it, since events missed while away are not replayed. */
export function useFollowLimits(): void {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const { queryKey } = getRateLimitsQueryOptions(client);
  useLiveEvents(["limits"], {
    onOpen: () => void queryClient.invalidateQueries({ queryKey }),
    onEvent: (_kind, data) => {
      if (isLimitsEvent(data)) {
        queryClient.setQueryData<RateLimits>(queryKey, (current) =>
          current === undefined ? current : applyLimitsEvent(current, data),
        );
      }
    },
  });
}
