import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { CapacityRow, ChainCapacity } from "../capacity";
import { ChainCapacityTable } from "./capacity-panel";

const NOW = new Date("2026-12-05T03:00:00Z").getTime();

function row(provider: string, changes: Partial<CapacityRow> = {}): CapacityRow {
  return {
    provider,
    model: "m",
    keyLabel: "…abcd",
    status: "tracking",
    ready: true,
    reason: null,
    cooldownUntil: null,
    requests: null,
    tokens: null,
    ...changes,
  };
}

function capacity(rows: CapacityRow[], changes: Partial<ChainCapacity> = {}): ChainCapacity {
  return {
    chain: "default",
    isDefault: true,
    rows,
    readyRows: rows.filter((known) => known.ready).length,
    requestsLeft: 0,
    unknownRows: 0,
    ...changes,
  };
}

describe("a chain's capacity table", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
  });

  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it("shows each entry's requests and tokens left with the time to their reset", () => {
    const rows = [
      row("groq", {
        requests: { left: 7, limit: 30, window: "minute", resetAt: NOW + 42_000 },
        tokens: { left: 1200, limit: 6000, window: "unknown", resetAt: null },
      }),
      row("mistral"),
    ];

    render(<ChainCapacityTable capacity={capacity(rows, { requestsLeft: 7, unknownRows: 1 })} />);

    expect(
      screen.getByText(/2 of 2 ready now; 7 requests left in known limits; 1 without/),
    ).toBeDefined();
    const table = screen.getByRole("table", { name: "Capacity of chain default" });
    const [groq, mistral] = within(table).getAllByRole("row").slice(1);
    expect(groq?.textContent).toContain("7 of 30 / minute · resets in 42s");
    expect(groq?.textContent).toContain(`${(1200).toLocaleString()} of ${(6000).toLocaleString()}`);
    expect(groq?.textContent).not.toContain("/ unknown");
    expect(mistral?.textContent).toContain("no limit known");
  });

  it("shows why an entry is not ready, and how long until it is", () => {
    const rows = [
      row("groq", { ready: false, reason: "HTTP 429", cooldownUntil: NOW + 90_000 }),
      row("cerebras", { ready: false, reason: "key refused" }),
    ];

    render(<ChainCapacityTable capacity={capacity(rows)} />);

    expect(screen.getByText("0 of 2 ready now.")).toBeDefined();
    expect(screen.getByText(/HTTP 429 · back in/).textContent).toContain("1m 30s");
    expect(screen.getByText("key refused")).toBeDefined();
  });
});
