import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import type { Replica, Replicas } from "../api/get-replicas";
import { renderWithApi } from "../testing/render-with-api";
import { FleetBadge, fleetSummary } from "./fleet-badge";

afterEach(cleanup);

function replica(id: string, host: string): Replica {
  return { id, host, pid: 7, version: "0.1.0", startedAt: 0, lastSeen: 0, watching: false };
}

/** Matches the badge's summary by its whole text (its parts are on lines of their own). */
function summaryReading(text: string) {
  return (_: string, element: Element | null) =>
    element?.tagName === "SUMMARY" && element.textContent === text;
}

const FLEET: Replicas = {
  stateStore: "shared",
  selfId: "aaaa1111",
  replicas: [replica("aaaa1111", "web-1"), replica("bbbb2222", "web-2")],
};

describe("fleetSummary", () => {
  it("counts the replicas sharing Redis", () => {
    expect(fleetSummary(FLEET)).toBe("Shared through Redis · 2 replicas");
    expect(fleetSummary({ ...FLEET, replicas: [replica("aaaa1111", "web-1")] })).toBe(
      "Shared through Redis · 1 replica",
    );
  });

  it("says when Redis is away, and nothing for one process", () => {
    expect(fleetSummary({ ...FLEET, stateStore: "local" })).toBe(
      "Redis unreachable: this replica only",
    );
    expect(fleetSummary({ stateStore: "memory", selfId: null, replicas: [] })).toBeNull();
  });
});

describe("the fleet badge", () => {
  it("lists the replicas and marks this one", async () => {
    renderWithApi(<FleetBadge />, { "/api/replicas": FLEET });

    expect(await screen.findByText(summaryReading("Shared through Redis · 2 replicas"))).toBeTruthy();
    const items = screen.getAllByRole("listitem", { hidden: true });
    expect(items.map((item) => item.textContent)).toEqual([
      "aaaa1111 (this one)web-1 · pid 7 · v0.1.0",
      "bbbb2222web-2 · pid 7 · v0.1.0",
    ]);
  });

  it("stands out while Redis is unreachable", async () => {
    renderWithApi(<FleetBadge />, {
      "/api/replicas": { ...FLEET, stateStore: "local", replicas: [replica("aaaa1111", "web-1")] },
    });

    const summary = await screen.findByText(summaryReading("Redis unreachable: this replica only"));
    expect(summary.closest("details")?.className).toBe("fleet-badge fleet-local");
  });
});
