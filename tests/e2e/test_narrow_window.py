"""Every page of the dashboard in a window 1024 px wide, the narrowest it supports: the page
itself never scrolls sideways, its heading is in view, and nothing sticks out past the window's
edge (a wide table scrolls inside its own box instead). Each test's screenshot is the page at
that width."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.dashboard_states import PageState, open_state, state_params

NARROWEST = {"width": 1024, "height": 768}

#: Elements whose right edge is past the window's and that no scrolling box of theirs clips:
#: what a user cannot see at this width.
_CUT_OFF = """
() => {
  const edge = document.documentElement.clientWidth;
  const clipped = (element) => {
    for (let box = element.parentElement; box !== null && box !== document.body;
         box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") return true;
    }
    return false;
  };
  const named = (element) => {
    const id = element.id === "" ? "" : `#${element.id}`;
    const text = (element.textContent ?? "").trim().slice(0, 40);
    return `${element.tagName.toLowerCase()}${id} "${text}"`;
  };
  return [...document.body.querySelectorAll("*")]
    .filter((element) => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.right > edge + 1 && !clipped(element);
    })
    .map(named);
}
"""

#: Tables that scroll in their box: allowed for long names, but the pages' usual data fits.
_SCROLLED_TABLES = """
() => [...document.querySelectorAll(".table-scroll")]
  .filter((box) => box.scrollWidth > box.clientWidth)
  .map((box) => {
    const name = box.querySelector("table")?.getAttribute("aria-label") ?? "a table";
    return `${name}: ${box.scrollWidth} px in ${box.clientWidth}`;
  })
"""


@pytest.mark.parametrize("state", state_params())
async def test_page_fits_1024_px(page: Page, stocked_proxy, state: PageState) -> None:
    await page.set_viewport_size(NARROWEST)
    await open_state(page, stocked_proxy, state)

    await page.evaluate("window.scrollTo(0, 0)")
    await expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    widths = await page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths[0]} px in {widths[1]}"
    assert await page.evaluate(_CUT_OFF) == []
    assert await page.evaluate(_SCROLLED_TABLES) == [], "a table needs scrolling at 1024 px"
