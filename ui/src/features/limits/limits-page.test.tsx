import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { ApiError } from "../../lib/api-error";
import { renderWithApi } from "../../testing/render-with-api";
import LimitsPage from "./limits-page";

afterEach(cleanup);

const NO_ENTRIES = { generatedAt: 0, entries: [], queue: { depth: 0, chains: {} } };

describe("the Limits page", () => {
  it("says what to do when no entry has limits to show", async () => {
    renderWithApi(<LimitsPage />, { "/api/ratelimits": NO_ENTRIES });

    expect(await screen.findByText(/^No entries yet\. Add a provider/)).toBeTruthy();
    expect(screen.queryByRole("table", { name: "Limits per entry" })).toBeNull();
  });

  it("shows the API's message when the limits cannot be read", async () => {
    renderWithApi(<LimitsPage />, {
      "/api/ratelimits": new ApiError("Cannot reach the proxy: Failed to fetch", 0),
    });

    expect((await screen.findByRole("alert")).textContent).toBe(
      "Cannot reach the proxy: Failed to fetch",
    );
  });
});

describe("the Limits page of a fleet", () => {
  it("says the limits are the fleet's while Redis is shared", async () => {
    renderWithApi(<LimitsPage />, { "/api/ratelimits": { ...NO_ENTRIES, stateStore: "shared" } });

    expect(await screen.findByText(/^Fleet-wide: remaining, in flight and cooldowns/)).toBeTruthy();
  });

  it("warns that they are this replica's alone while Redis is unreachable", async () => {
    renderWithApi(<LimitsPage />, { "/api/ratelimits": { ...NO_ENTRIES, stateStore: "local" } });

    expect(await screen.findByText(/^This replica only: Redis is unreachable/)).toBeTruthy();
  });
});
