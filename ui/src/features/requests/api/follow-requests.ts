import { useQueryClient, type QueryClient } from "@tanstack/react-query";

import { useLiveEvents } from "../../../lib/sse-use-events";
import { REQUEST_PAGE_SIZE, REQUESTS_LOG_KEY } from "./get-requests";
import { matchesFilters, type RequestFilters, type RequestPage, type RequestRow } from "./types";

function isRequestRow(data: unknown): data is RequestRow {
  return (
    typeof data === "object" &&
    data !== null &&
    "requestId" in data &&
    "attempts" in data &&
    Array.isArray(data.attempts)
  );
}

/** Puts a finished request at the top of every cached log whose filters it matches. */
export function prependRequest(queryClient: QueryClient, row: RequestRow): void {
  for (const [key, page] of queryClient.getQueriesData<RequestPage>({ queryKey: REQUESTS_LOG_KEY })) {
    const filters = key[REQUESTS_LOG_KEY.length] as RequestFilters;
    if (page === undefined || !matchesFilters(row, filters)) {
      continue;
    }
    if (page.data.some((known) => known.requestId === row.requestId)) {
      continue;
    }
    queryClient.setQueryData<RequestPage>(key, {
      ...page,
      data: [row, ...page.data].slice(0, REQUEST_PAGE_SIZE),
    });
  }
}

/** Keeps the request log live while mounted: each `request` event is a new row; each
 * (re)connection re-reads the log, since events missed while away are not replayed. */
export function useFollowRequests(): void {
  const queryClient = useQueryClient();
  useLiveEvents(["request"], {
    onOpen: () => void queryClient.invalidateQueries({ queryKey: REQUESTS_LOG_KEY }),
    onEvent: (_kind, data) => {
      if (isRequestRow(data)) {
        prependRequest(queryClient, data);
      }
    },
  });
}
