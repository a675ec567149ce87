import type { ChainsAnswer, LimitState, LimitWindow, RateLimitsAnswer } from "./api/types";

/** The tightest known window of one kind (requests or tokens) of an entry: what is left of it
 * now (in-flight work counted as spent), and when it refills. */
export interface Headroom {
  left: number | null;
  limit: number | null;
  window: string;
  resetAt: number | null;
}

/** One key of one chain entry: its headroom in requests and in tokens (null when no limit of
 * that kind is known), and whether it could take a request now. */
export interface CapacityRow {
  provider: string;
  model: string;
  keyLabel: string | null;
  status: string;
  ready: boolean;
  reason: string | null;
  cooldownUntil: number | null;
  requests: Headroom | null;
  tokens: Headroom | null;
}

export interface ChainCapacity {
  chain: string;
  isDefault: boolean;
  rows: CapacityRow[];
  readyRows: number;
  /** Requests left across the ready rows that know theirs. */
  requestsLeft: number;
  /** Ready rows without a known request limit: their capacity is not counted above. */
  unknownRows: number;
}

function leftOf(window: LimitWindow): number | null {
  return window.remaining === null ? null : Math.max(0, window.remaining - window.inFlight);
}

/** Of the windows of `kind`, the one that binds first: the least left (a known figure beats an
 * unknown one), and of equals the one refilling last. */
export function tightest(windows: readonly LimitWindow[], kind: string): Headroom | null {
  let best: LimitWindow | null = null;
  for (const window of windows) {
    if (window.kind !== kind) {
      continue;
    }
    if (best === null || binds(window, best)) {
      best = window;
    }
  }
  if (best === null) {
    return null;
  }
  return { left: leftOf(best), limit: best.limit, window: best.window, resetAt: best.resetAt };
}

function binds(window: LimitWindow, than: LimitWindow): boolean {
  const left = leftOf(window);
  const other = leftOf(than);
  if (left === null || other === null) {
    return left !== null;
  }
  if (left !== other) {
    return left < other;
  }
  return (window.resetAt ?? 0) > (than.resetAt ?? 0);
}

function rowOf(state: LimitState, now: number): CapacityRow {
  const cooling = state.cooldownUntil !== null && state.cooldownUntil > now;
  const requests = tightest(state.metrics, "requests");
  const spent = requests !== null && requests.left === 0;
  return {
    provider: state.provider,
    model: state.model,
    keyLabel: state.keyLabel,
    status: state.status,
    ready: state.disabled === null && !cooling && !spent && state.status !== "exhausted",
    reason: state.disabled ?? state.reason,
    cooldownUntil: cooling ? state.cooldownUntil : null,
    requests,
    tokens: tightest(state.metrics, "tokens"),
  };
}

function unseenRow(provider: string, model: string): CapacityRow {
  return {
    provider,
    model,
    keyLabel: null,
    status: "available",
    ready: true,
    reason: null,
    cooldownUntil: null,
    requests: null,
    tokens: null,
  };
}

/** Each chain's free capacity now: per entry in chain order, per key, what is left until it
 * resets, and the chain's sum over the entries that could serve now. */
export function chainCapacity(
  chains: ChainsAnswer,
  limits: RateLimitsAnswer,
  now: number,
): ChainCapacity[] {
  const byEntry = new Map<string, LimitState[]>();
  for (const state of limits.entries) {
    const key = `${state.provider}/${state.model}`;
    byEntry.set(key, [...(byEntry.get(key) ?? []), state]);
  }
  return chains.chains.map((chain) => {
    const rows = chain.entries.flatMap((entry) => {
      const states = byEntry.get(`${entry.provider}/${entry.model}`) ?? [];
      return states.length === 0
        ? [unseenRow(entry.provider, entry.model)]
        : states.map((state) => rowOf(state, now));
    });
    const ready = rows.filter((row) => row.ready);
    return {
      chain: chain.name,
      isDefault: chain.isDefault,
      rows,
      readyRows: ready.length,
      requestsLeft: ready.reduce((sum, row) => sum + (row.requests?.left ?? 0), 0),
      unknownRows: ready.filter((row) => row.requests?.left == null).length,
    };
  });
}
