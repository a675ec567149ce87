"""axe-core over every page of the dashboard (and the sign-in page, a form opened, a chain being
edited, a request expanded): no serious or critical violation anywhere."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.dashboard_states import PageState, navigation_pages, open_state, state_params


async def test_the_checked_pages_are_the_links_of_the_navigation(page: Page, stocked_proxy) -> None:
    await open_state(page, stocked_proxy, PageState("Overview", "/"))

    links = page.get_by_role("navigation", name="Dashboard").get_by_role("link")
    await expect(links).to_have_count(len(navigation_pages()))
    shown = [
        (await link.inner_text(), await link.get_attribute("href")) for link in await links.all()
    ]
    assert shown == navigation_pages()


@pytest.mark.parametrize("state", state_params())
async def test_page_is_accessible(page: Page, stocked_proxy, state: PageState) -> None:
    await open_state(page, stocked_proxy, state)

    await assert_accessible(page, state.name)
