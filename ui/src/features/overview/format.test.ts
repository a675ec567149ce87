import { describe, expect, it } from "vitest";

import { formatCount, formatMs, formatRate } from "./format";

describe("figures as people read them", () => {
  it("gives milliseconds below a second and seconds above", () => {
    expect(formatMs(123.4)).toBe("123 ms");
    expect(formatMs(2345)).toBe("2.35 s");
    expect(formatMs(null)).toBe("—");
  });

  it("gives rates as percentages, with a decimal when small", () => {
    expect(formatRate(0)).toBe("0%");
    expect(formatRate(0.0421)).toBe("4.2%");
    expect(formatRate(0.5)).toBe("50%");
    expect(formatRate(1)).toBe("100%");
  });

  it("marks a missing count", () => {
    expect(formatCount(null)).toBe("—");
    expect(formatCount(7)).toBe("7");
  });
});
