import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ChainOutlook } from "../../../api/ratelimit-types";
import { ChainOutlookRow } from "./chain-outlook-row";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

function outlook(changes: Partial<ChainOutlook>): ChainOutlook {
  return { name: "fast", isDefault: false, queued: 0, next: null, freeAt: null, ...changes };
}

function row(chain: ChainOutlook): string[] {
  render(
    <table>
      <tbody>
        <ChainOutlookRow chain={chain} />
      </tbody>
    </table>,
  );
  return screen.getAllByRole("cell").map((cell) => cell.textContent);
}

describe("a chain's row on the Limits page", () => {
  it("names the entry the chain would use now, and its queue", () => {
    const chain = outlook({ next: { provider: "groq", model: "llama-3.3-70b" }, queued: 3 });

    expect(row(chain)).toEqual(["fast", "groq/llama-3.3-70b", "3"]);
  });

  it("marks the default chain", () => {
    expect(row(outlook({ name: "default", isDefault: true }))[0]).toBe("default (default)");
  });

  it("counts down to the soonest entry freeing up when none is free", () => {
    vi.useFakeTimers({ now: 1_000_000 });

    expect(row(outlook({ freeAt: 1_000_000 + 72_500 }))[1]).toBe("none free; next frees in 1m 13s");
  });

  it("says to check the providers when none will free up by itself", () => {
    expect(row(outlook({}))[1]).toBe("none will free by itself: check the providers");
  });
});
