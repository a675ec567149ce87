import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { TableScroll } from "./table-scroll";

afterEach(cleanup);

describe("the box a wide table scrolls in", () => {
  it("is a named region the keyboard can reach, holding the table", () => {
    render(
      <TableScroll label="Request log">
        <table aria-label="Request log" />
      </TableScroll>,
    );

    const region = screen.getByRole("region", { name: "Request log" });
    expect(region.tabIndex).toBe(0);
    expect(region.querySelector("table")).not.toBeNull();
  });
});
