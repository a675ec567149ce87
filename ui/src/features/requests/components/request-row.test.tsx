import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import type { RequestRow } from "../api/types";
import { RequestLogRow } from "./request-row";

afterEach(cleanup);

const ROW: RequestRow = {
  id: null,
  requestId: "req_1",
  timestamp: 1000,
  endpoint: "/chat/completions",
  chain: "default",
  requestedModel: "default",
  provider: "groq",
  model: "llama",
  keyLabel: "…abcd",
  status: 200,
  streamed: false,
  attemptCount: 1,
  promptTokens: 1,
  completionTokens: 1,
  totalTokens: 2,
  latencyMs: 10,
  ttftMs: null,
  queuedMs: null,
  errorClass: null,
  clientClosed: false,
  attempts: [],
};

function open(row: RequestRow) {
  render(
    <table>
      <tbody>
        <RequestLogRow row={row} />
      </tbody>
    </table>,
  );
  fireEvent.click(screen.getByRole("button", { name: "Attempts of req_1" }));
}

describe("a request of the log, opened", () => {
  it("names the replica that served a live request of a fleet", () => {
    open({ ...ROW, replica: "4f2a91c0" });

    expect(screen.getByText(/^Served by replica/).textContent).toBe("Served by replica 4f2a91c0");
  });

  it("names none for a row of the log or of one process", () => {
    open(ROW);

    expect(screen.queryByText(/^Served by replica/)).toBeNull();
  });
});
