import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { ApiError } from "../../lib/api-error";
import { renderWithApi } from "../../testing/render-with-api";
import ChainsPage from "./chains-page";

afterEach(cleanup);

describe("the Chains page", () => {
  it("says what to do when there is no chain", async () => {
    renderWithApi(<ChainsPage />, { "/api/chains": { chains: [] } });

    expect(await screen.findByText(/^No chain yet\. Create one/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "New chain" })).toBeTruthy();
  });

  it("shows the API's message when the chains cannot be read", async () => {
    renderWithApi(<ChainsPage />, {
      "/api/chains": new ApiError("The proxy answered 500 Internal Server Error.", 500),
    });

    expect((await screen.findByRole("alert")).textContent).toBe(
      "The proxy answered 500 Internal Server Error.",
    );
  });
});
