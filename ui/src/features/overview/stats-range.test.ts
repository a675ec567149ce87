import { describe, expect, it } from "vitest";

import { alignedBounds, bucketCount, findRange, RANGES } from "./stats-range";

const NOON = Date.UTC(2026, 11, 5, 12, 0, 0);

describe("the range a chart reads", () => {
  it("ends with the bucket holding now and starts on a boundary", () => {
    const now = NOON + 17 * 60_000 + 42_500;

    const bounds = alignedBounds(findRange("1h"), now);

    expect(bounds.to).toBe(NOON + 18 * 60_000);
    expect(bounds.from).toBe(NOON - 42 * 60_000);
    expect(bounds.to - bounds.from).toBe(3_600_000);
  });

  it("holds exactly span / bucket buckets for every range, never one more", () => {
    const now = NOON + 59 * 60_000 + 59_999;
    for (const range of RANGES) {
      const { from, to } = alignedBounds(range, now);
      const width = to - from;
      expect(width).toBe(range.spanMs);
      expect(from % (range.bucket === "minute" ? 60_000 : 3_600_000)).toBe(0);
      expect(bucketCount(range)).toBeLessThanOrEqual(1_440);
    }
    expect(alignedBounds(findRange("24h"), now)).toEqual({
      from: NOON + 3_600_000 - 86_400_000,
      to: NOON + 3_600_000,
    });
  });

  it("includes now when now is exactly on a boundary", () => {
    const bounds = alignedBounds(findRange("1h"), NOON);
    expect(bounds.from).toBeLessThanOrEqual(NOON);
    expect(bounds.to).toBeGreaterThan(NOON);
  });

  it("falls back to the first range for an unknown id", () => {
    expect(findRange("5y").id).toBe("1h");
  });
});
