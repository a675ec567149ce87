import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { useApiClient } from "../../../lib/api-context";
import { useLiveEvents } from "../../../lib/sse-use-events";
import { getChainsQueryOptions } from "./get-chains";
import { getRateLimitsQueryOptions } from "../../../api/get-ratelimits";
import { settledRefetch } from "./settled-refetch";
import { OVERVIEW_STATS_KEY } from "./stats-keys";

/** Keeps the Overview live while mounted: recorded requests refetch the statistics (once they
 * can be read, see `settledRefetch`), a limit change the capacity, a configuration change the
 * chains; each (re)connection refetches all, since events missed while away are not replayed. */
export function useFollowOverview(): void {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const ratelimitsKey = getRateLimitsQueryOptions(client).queryKey;
  const chainsKey = getChainsQueryOptions(client).queryKey;
  const [stats] = useState(() =>
    settledRefetch(() => void queryClient.invalidateQueries({ queryKey: OVERVIEW_STATS_KEY })),
  );
  useEffect(() => {
    return () => {
      stats.cancel();
    };
  }, [stats]);
  useLiveEvents(["request", "limits", "config"], {
    onOpen: () => {
      for (const queryKey of [OVERVIEW_STATS_KEY, ratelimitsKey, chainsKey]) {
        void queryClient.invalidateQueries({ queryKey });
      }
    },
    onEvent: (kind) => {
      if (kind === "request") {
        stats.notify();
      } else if (kind === "limits") {
        void queryClient.invalidateQueries({ queryKey: ratelimitsKey });
      } else {
        void queryClient.invalidateQueries({ queryKey: chainsKey });
        void queryClient.invalidateQueries({ queryKey: ratelimitsKey });
      }
    },
  });
}
