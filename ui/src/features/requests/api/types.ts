/** One attempt of a request at one chain entry, as `/api/stats/requests` shows it. */
export interface Attempt {
  position: number;
  provider: string;
  model: string;
  keyLabel: string;
  outcome: string;
  status: number | null;
  latencyMs: number | null;
  waitedMs?: number | null;
  reason: string;
}

/** A row of the request log; a live `request` event has the same fields with `id: null`. */
export interface RequestRow {
  id: number | null;
  requestId: string;
  timestamp: number;
  endpoint: string;
  chain: string | null;
  requestedModel: string | null;
  provider: string | null;
  model: string | null;
  keyLabel: string | null;
  status: number | null;
  streamed: boolean;
  attemptCount: number;
  promptTokens: number | null;
  completionTokens: number | null;
  totalTokens: number | null;
  latencyMs: number | null;
  ttftMs: number | null;
  queuedMs: number | null;
  errorClass: string | null;
  clientClosed: boolean;
  attempts: Attempt[];
  /** The replica that served it: live events of replicas sharing Redis only. */
  replica?: string;
}

export interface RequestPage {
  data: RequestRow[];
  nextCursor: string | null;
}

export const OUTCOMES = ["success", "429", "4xx", "error"] as const;
export type OutcomeFilter = (typeof OUTCOMES)[number];

/** The log's filters; an empty string means any. */
export interface RequestFilters {
  chain: string;
  provider: string;
  status: OutcomeFilter | "";
}

export const NO_FILTERS: RequestFilters = { chain: "", provider: "", status: "" };

/** Whether a row belongs in a log filtered by `filters`, as the server decides
 * (`parse_status` in admin/stats_params.py): a row without a status matches no outcome. */
export function matchesFilters(row: RequestRow, filters: RequestFilters): boolean {
  if (filters.chain !== "" && row.chain !== filters.chain) {
    return false;
  }
  if (filters.provider !== "" && row.provider !== filters.provider) {
    return false;
  }
  if (filters.status === "") {
    return true;
  }
  const status = row.status;
  if (status === null) {
    return false;
  }
  switch (filters.status) {
    case "success":
      return status >= 100 && status < 400;
    case "429":
      return status === 429;
    case "4xx":
      return status >= 400 && status < 500;
    case "error":
      return status >= 400 && status < 600;
  }
}
