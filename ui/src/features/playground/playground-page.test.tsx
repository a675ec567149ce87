import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";

import { createApiClient } from "../../lib/api-client";
import { ApiClientContext } from "../../lib/api-context";
import PlaygroundPage from "./playground-page";

const ANSWERS: Record<string, unknown> = {
  "/api/providers": { providers: [{ id: "groq" }] },
};

function renderPage(chains: unknown[]) {
  const send = vi.fn<typeof fetch>((input) => {
    const path = input as string;
    const body = path === "/api/chains" ? { chains } : ANSWERS[path];
    return Promise.resolve(new Response(JSON.stringify(body ?? {}), { status: 200 }));
  });
  const keys = { read: () => "adm", save: vi.fn(), clear: vi.fn() };
  const client = createApiClient({ keys, onUnauthorized: vi.fn(), fetch: send });
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <MemoryRouter>
      <QueryClientProvider client={queries}>
        <ApiClientContext value={client}>
          <PlaygroundPage />
        </ApiClientContext>
      </QueryClientProvider>
    </MemoryRouter>,
  );
  return send;
}

describe("the playground page", () => {
  afterEach(cleanup);

  it("says what to do when there is no chain", async () => {
    renderPage([]);

    const empty = await screen.findByText(/No chain yet/);
    expect(empty.textContent).toContain("create a chain on the Chains page");
    expect(screen.getByRole("link", { name: "Chains" }).getAttribute("href")).toBe("/chains");
  });

  it("picks the default chain and refuses an empty prompt without calling the API", async () => {
    const send = renderPage([
      { name: "fast", entries: [], isDefault: false },
      { name: "main", entries: [{ provider: "groq", model: "llama" }], isDefault: true },
    ]);

    const chain = await screen.findByDisplayValue("main (1 entry)");
    expect(chain).toHaveProperty("value", "main");
    const calls = send.mock.calls.length;
    fireEvent.click(screen.getByRole("button", { name: "Send" }));

    const error = await screen.findByText("Write a prompt.");
    expect(screen.getByLabelText("Prompt").getAttribute("aria-describedby")).toBe(error.id);
    expect(send.mock.calls.length).toBe(calls);
    const testEvery = screen.getByRole("button", { name: "Test every entry" });
    expect(testEvery).toHaveProperty("disabled", false);
  });

  it("offers the providers when sending to one entry, and hides Test every entry", async () => {
    renderPage([{ name: "main", entries: [], isDefault: true }]);
    await screen.findByDisplayValue("main (0 entries)");

    fireEvent.click(screen.getByLabelText("One entry"));

    expect(await screen.findByRole("option", { name: "groq" })).toBeDefined();
    expect(screen.queryByRole("button", { name: "Test every entry" })).toBeNull();
  });
});
