import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { ApiError } from "../../lib/api-error";
import { renderWithApi } from "../../testing/render-with-api";
import ProvidersPage from "./providers-page";

afterEach(cleanup);

describe("the Providers page", () => {
  it("says what to do when there is no provider", async () => {
    renderWithApi(<ProvidersPage />, { "/api/providers": { providers: [] } });

    expect(await screen.findByText(/^No provider yet\. Add one/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Add a provider" })).toBeTruthy();
  });

  it("shows the API's message when the list cannot be read", async () => {
    renderWithApi(<ProvidersPage />, {
      "/api/providers": new ApiError("Cannot reach the proxy: Failed to fetch", 0),
    });

    expect((await screen.findByRole("alert")).textContent).toBe(
      "Cannot reach the proxy: Failed to fetch",
    );
  });
});
