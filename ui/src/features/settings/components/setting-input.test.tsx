import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { SettingField } from "../api/setting-types";
import { SettingInput } from "./setting-input";

const PORT: SettingField = {
  name: "port",
  description: "Listen port (`0` picks one).",
  kind: "integer",
  required: false,
  default: 3429,
  minimum: 0,
  maximum: 65535,
  choices: null,
  restartRequired: true,
  variable: "CHAIN429_PORT",
  setByEnvironment: false,
};

const ADMIN_KEYS: SettingField = {
  ...PORT,
  name: "adminKeys",
  description: "Keys for the management API.",
  kind: "keys",
  default: [],
  minimum: null,
  maximum: null,
  restartRequired: false,
};

function renderSetting(field: SettingField, more: Partial<Parameters<typeof SettingInput>[0]> = {}) {
  const onChange = vi.fn();
  render(
    <SettingInput
      field={field}
      value={field.kind === "keys" ? [] : "3429"}
      labels={["…abcd"]}
      chains={[]}
      error={undefined}
      pending={false}
      onChange={onChange}
      {...more}
    />,
  );
  return onChange;
}

describe("a setting", () => {
  afterEach(cleanup);

  it("shows its meaning, default and restart flag, described to its input", () => {
    renderSetting(PORT);
    const input = screen.getByLabelText("port");
    expect(input).toHaveProperty("value", "3429");
    const about = document.getElementById(input.getAttribute("aria-describedby") ?? "");
    expect(about?.textContent).toBe("Listen port (0 picks one). (default: 3429)");
    expect(about?.querySelector("code")?.textContent).toBe("0");
    expect(screen.getByText("applies after restart")).toBeDefined();
  });

  it("locks a setting the environment gives and names its variable", () => {
    renderSetting({ ...PORT, setByEnvironment: true });
    const input = screen.getByLabelText("port");
    expect(input.closest("fieldset")?.disabled).toBe(true);
    expect(screen.getByText("set by CHAIN429_PORT")).toBeDefined();
    const about = document.getElementById(input.getAttribute("aria-describedby") ?? "");
    expect(about?.textContent).toContain("The environment variable CHAIN429_PORT gives it");
  });

  it("leaves a setting the environment could give but does not open", () => {
    renderSetting(PORT);
    expect(screen.getByLabelText("port").closest("fieldset")).toBeNull();
    expect(screen.queryByText("set by CHAIN429_PORT")).toBeNull();
  });

  it("says a saved restart-only change waits for the restart", () => {
    renderSetting(PORT, { pending: true });
    expect(screen.getByText("saved: applies after restart")).toBeDefined();
  });

  it("points its error at the input", () => {
    renderSetting(PORT, { error: "Too big." });
    const input = screen.getByLabelText("port");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(input.getAttribute("aria-describedby")).toBe("setting-port-about setting-port-error");
    expect(screen.getByRole("alert").textContent).toBe("Too big.");
  });

  it("shows keys as their labels and adds rows for new ones", () => {
    const onChange = renderSetting(ADMIN_KEYS);
    const group = screen.getByRole("group", { name: "adminKeys" });
    expect(group.textContent).toContain("Current: …abcd");
    fireEvent.click(screen.getByRole("button", { name: "Replace the adminKeys" }));
    expect(onChange).toHaveBeenCalledWith([""]);
  });

  it("warns that new admin keys must keep the signed-in one", () => {
    renderSetting(ADMIN_KEYS, { value: ["sk-new"] });
    const input = screen.getByLabelText("New key 1");
    expect(input.getAttribute("type")).toBe("password");
    expect(screen.getByText(/Keep the key you signed in with/)).toBeDefined();
  });
});
