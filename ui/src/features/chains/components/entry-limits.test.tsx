import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { EntryLimits } from "./entry-limits";

afterEach(cleanup);

function open(props: Partial<Parameters<typeof EntryLimits>[0]> = {}) {
  const onApply = vi.fn((_: unknown, done: () => void) => { done(); });
  render(
    <EntryLimits
      id="a/a-model"
      limits={{ requestsPerMinute: 30 }}
      onApply={onApply}
      apiErrors={{}}
      pending={false}
      {...props}
    />,
  );
  fireEvent.click(screen.getByRole("button", { name: "Limits of a/a-model" }));
  return onApply;
}

describe("EntryLimits", () => {
  it("opens on the entry's limits and applies the ones typed, then closes", () => {
    const onApply = open();
    const toggle = screen.getByRole("button", { name: "Limits of a/a-model" });
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(screen.getByLabelText<HTMLInputElement>("Requests per minute").value).toBe("30");

    fireEvent.change(screen.getByLabelText("Requests per day"), { target: { value: "1000" } });
    fireEvent.click(screen.getByRole("button", { name: "Set limits of a/a-model" }));

    expect(onApply.mock.calls[0]?.[0]).toEqual({ requestsPerMinute: 30, requestsPerDay: 1000 });
    expect(screen.queryByRole("group")).toBeNull();
  });

  it("clears every limit with one button", () => {
    const onApply = open();
    fireEvent.click(screen.getByRole("button", { name: "Clear limits" }));
    expect(onApply.mock.calls[0]?.[0]).toBeNull();
  });

  it("keeps a refused number next to its field, without applying", () => {
    const onApply = open();
    const input = screen.getByLabelText("Requests per minute");
    fireEvent.change(input, { target: { value: "-1" } });
    fireEvent.click(screen.getByRole("button", { name: "Set limits of a/a-model" }));

    expect(onApply).not.toHaveBeenCalled();
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("alert").textContent).toBe("A limit is a whole number above 0.");
  });

  it("shows the API's refusal next to the limit it names", () => {
    open({ apiErrors: { tokensPerDay: "Input should be greater than 0" } });
    const input = screen.getByLabelText("Tokens per day");
    expect(input.getAttribute("aria-describedby")).not.toBeNull();
    expect(screen.getByRole("alert").textContent).toBe("Input should be greater than 0");
  });
});
