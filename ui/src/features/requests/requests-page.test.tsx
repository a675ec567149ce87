import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { ApiError } from "../../lib/api-error";
import { renderWithApi } from "../../testing/render-with-api";
import RequestsPage from "./requests-page";

afterEach(cleanup);

describe("the Requests page", () => {
  it("says how to get a first request when the log is empty", async () => {
    renderWithApi(<RequestsPage />, { "/api/stats/requests": { data: [], nextCursor: null } });

    expect(await screen.findByText(/^No requests yet\. Send one through the proxy/)).toBeTruthy();
  });

  it("shows the API's message, with its field, when the log cannot be read", async () => {
    renderWithApi(<RequestsPage />, {
      "/api/stats/requests": new ApiError("invalid cursor", 400, "cursor"),
    });

    expect((await screen.findByRole("alert")).textContent).toBe("invalid cursor (cursor)");
  });

  it("says how to turn the log on when usage recording is off", async () => {
    renderWithApi(<RequestsPage />, {
      "/api/stats/requests": new ApiError(
        "usage recording is off (settings.recordUsage: false): there are no statistics",
        409,
        null,
        "usage_recording_off",
      ),
    });

    const notice = await screen.findByText(/^No request log: usage recording is off/);
    expect(notice.textContent).toContain("(settings.recordUsage: false). Turn it on");
    expect(notice.getAttribute("role")).toBe("status");
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
