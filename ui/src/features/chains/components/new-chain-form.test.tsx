import { cleanup, fireEvent, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { renderWithApi } from "../../../testing/render-with-api";
import { NewChainForm } from "./new-chain-form";

afterEach(cleanup);

const ANSWERS = {
  "/api/providers": { providers: [{ id: "groq" }] },
  "/api/providers/groq/models": { models: [] },
};

describe("the new chain form", () => {
  it("says how to add entries while it has none, and stops once one is added", async () => {
    renderWithApi(<NewChainForm etag={null} onDone={() => undefined} />, ANSWERS);

    expect(screen.getByText(/^No entries yet: pick a provider and a model below/)).toBeTruthy();
    await screen.findByRole("option", { name: "groq" });
    fireEvent.change(screen.getByLabelText("Entry provider"), { target: { value: "groq" } });
    fireEvent.change(screen.getByLabelText("Model"), { target: { value: "llama-3.1-8b" } });
    fireEvent.click(screen.getByRole("button", { name: "Add entry" }));

    expect(await screen.findByText("groq/llama-3.1-8b")).toBeTruthy();
    expect(screen.queryByText(/^No entries yet/)).toBeNull();
  });
});
