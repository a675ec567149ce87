"""Every page of the dashboard in a window 1024 px wide, the narrowest it supports: the page
itself never scrolls sideways, its heading is in view, and nothing sticks out past the window's
edge (a wide table scrolls inside its own box instead). Each test's screenshot is the page at
that width."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.dashboard_states import PageState, open_state, state_params
from tests.e2e.test_sign_in import sign_in
from tests.support.polling import eventually
from tests.support.proxy import ADMIN_KEY, make_config

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


async def assert_no_sideways_scrolling(page: Page) -> None:
    wide, shown = await page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert wide <= shown, f"the page scrolls sideways: {wide} px in {shown}"


@pytest.mark.parametrize("state", state_params())
async def test_page_fits_1024_px(page: Page, stocked_proxy, state: PageState) -> None:
    await page.set_viewport_size(NARROWEST)
    await open_state(page, stocked_proxy, state)

    await page.evaluate("window.scrollTo(0, 0)")
    await expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    await assert_no_sideways_scrolling(page)
    assert await page.evaluate(_CUT_OFF) == []
    assert await page.evaluate(_SCROLLED_TABLES) == [], "a table needs scrolling at 1024 px"


async def test_a_table_too_wide_scrolls_in_its_own_box_by_keyboard_too(
    page: Page, proxy_factory
) -> None:
    long_model = "accounts/fireworks/models/llama-v3p3-70b-instruct-ft-" + "0123456789" * 8
    config = make_config(
        [("openrouter", "http://127.0.0.1:9/v1")],
        chain=[("openrouter", long_model)],
        admin=True,
    )
    proxy = await proxy_factory(config)
    await page.set_viewport_size(NARROWEST)
    await page.goto(f"{proxy.url}/limits")
    await sign_in(page, ADMIN_KEY)
    box = page.get_by_role("region", name="Limits per entry")
    await expect(box.get_by_role("cell", name=f"openrouter/{long_model}")).to_be_attached()

    assert await page.evaluate(_SCROLLED_TABLES) != [], "the long name should need scrolling"
    await assert_no_sideways_scrolling(page)
    await box.focus()
    await page.keyboard.press("ArrowRight")
    await eventually(
        lambda: box.evaluate("box => box.scrollLeft > 0"), what="the box scrolled by keyboard"
    )
    await assert_accessible(page, "Limits with a table wider than the window")
