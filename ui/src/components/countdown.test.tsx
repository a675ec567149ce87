import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { Countdown, formatRemaining } from "./countdown";

const START = new Date("2026-12-05T02:00:00Z").getTime();

describe("the countdown", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(START);
  });

  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it("ticks down each second and says `now` when the moment comes", () => {
    render(<Countdown until={START + 62_000} />);
    const time = screen.getByRole("time");
    expect(time).toHaveProperty("textContent", "1m 02s");

    act(() => {
      vi.advanceTimersByTime(3000);
    });
    expect(time).toHaveProperty("textContent", "59s");

    act(() => {
      vi.advanceTimersByTime(59_000);
    });
    expect(time).toHaveProperty("textContent", "now");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("shows its own word for a moment already passed", () => {
    render(<Countdown until={START - 1} done="over" />);

    expect(screen.getByRole("time")).toHaveProperty("textContent", "over");
  });

  it("formats hours, minutes and seconds, rounding up", () => {
    expect(formatRemaining(3_700_000)).toBe("1h 01m 40s");
    expect(formatRemaining(72_500)).toBe("1m 13s");
    expect(formatRemaining(1)).toBe("1s");
    expect(formatRemaining(-5)).toBe("0s");
  });
});
