import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { settledRefetch } from "./settled-refetch";

describe("refetching statistics after request events", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("waits until events have settled, then refetches once", () => {
    const refetch = vi.fn();
    const schedule = settledRefetch(refetch, 1_500, 4_000);

    schedule.notify();
    vi.advanceTimersByTime(1_000);
    schedule.notify();
    vi.advanceTimersByTime(1_499);
    expect(refetch).not.toHaveBeenCalled();

    vi.advanceTimersByTime(1);
    expect(refetch).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(refetch).toHaveBeenCalledTimes(1);
  });

  it("refetches at the latest the longest wait after the first of a steady stream", () => {
    const refetch = vi.fn();
    const schedule = settledRefetch(refetch, 1_500, 4_000);

    for (let tick = 0; tick < 10; tick += 1) {
      schedule.notify();
      vi.advanceTimersByTime(500);
    }

    expect(refetch).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1_500);
    expect(refetch).toHaveBeenCalledTimes(2);
  });

  it("does nothing once cancelled", () => {
    const refetch = vi.fn();
    const schedule = settledRefetch(refetch, 1_500, 4_000);

    schedule.notify();
    schedule.cancel();
    vi.advanceTimersByTime(10_000);

    expect(refetch).not.toHaveBeenCalled();
  });
});
