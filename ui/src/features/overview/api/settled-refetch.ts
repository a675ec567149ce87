/** The usage writer stores records in batches up to a second apart (usage/writer.py), so a
 * `request` event comes before its row can be read: statistics are refetched once events have
 * settled for `settleMs`, or at the latest `maxWaitMs` after the first one under a steady
 * stream, so the last request of a burst is always counted. */
export const SETTLE_MS = 1_500;
export const MAX_WAIT_MS = 4_000;

export interface SettledRefetch {
  /** An event came: refetch once things settle. */
  notify: () => void;
  cancel: () => void;
}

export function settledRefetch(
  refetch: () => void,
  settleMs: number = SETTLE_MS,
  maxWaitMs: number = MAX_WAIT_MS,
): SettledRefetch {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let firstAt: number | null = null;

  function fire() {
    timer = undefined;
    firstAt = null;
    refetch();
  }

  return {
    notify() {
      const now = Date.now();
      firstAt ??= now;
      clearTimeout(timer);
      timer = setTimeout(fire, Math.max(0, Math.min(settleMs, firstAt + maxWaitMs - now)));
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
      firstAt = null;
    },
  };
}
