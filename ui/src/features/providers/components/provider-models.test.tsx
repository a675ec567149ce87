import { cleanup, fireEvent, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { ApiError } from "../../../lib/api-error";
import { renderWithApi } from "../../../testing/render-with-api";
import { filterModels, ProviderModels, UNREACHABLE_HINT } from "./provider-models";

afterEach(cleanup);

const PATH = "/api/providers/g/models";

function answer(...ids: string[]) {
  return {
    provider: "g",
    models: ids.map((id) => ({ id, ownedBy: "g" })),
    fetchedAt: "2027-01-15T08:00:00.000Z",
  };
}

describe("filterModels", () => {
  it("keeps the ids containing the filter, in any case, and all for an empty one", () => {
    const ids = ["llama-3-8b", "Llama-3-70b", "mixtral"];
    expect(filterModels(ids, " LLAMA ")).toEqual(["llama-3-8b", "Llama-3-70b"]);
    expect(filterModels(ids, "")).toEqual(ids);
  });
});

describe("ProviderModels", () => {
  it("shows the count and the ids, without a filter for a short list", async () => {
    renderWithApi(<ProviderModels provider="g" />, { [PATH]: answer("llama-fast", "llama-big") });

    const list = await screen.findByRole("list", { name: "Models of g" });
    expect(list.textContent).toBe("llama-fastllama-big");
    expect(screen.getByText(/^2 models offered by g/)).toBeTruthy();
    expect(screen.queryByLabelText("Filter models")).toBeNull();
  });

  it("narrows a long list with the filter and says when nothing matches", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `model-${i}`);
    renderWithApi(<ProviderModels provider="g" />, { [PATH]: answer(...ids, "special") });

    const filter = await screen.findByLabelText("Filter models");
    fireEvent.change(filter, { target: { value: "spec" } });
    expect(screen.getByRole("list", { name: "Models of g" }).textContent).toBe("special");
    fireEvent.change(filter, { target: { value: "nothing" } });
    expect(screen.getByText("No model id contains “nothing”.")).toBeTruthy();
  });

  it("shows the API's message and what to check when the provider cannot be reached", async () => {
    renderWithApi(<ProviderModels provider="g" />, {
      [PATH]: new ApiError("Provider 'g' could not be reached: connection refused", 502),
    });

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain(
      "Could not list the models of g: Provider 'g' could not be reached: connection refused",
    );
    expect(alert.textContent).toContain(UNREACHABLE_HINT);
  });
});
