"""A real browser for the dashboard's end-to-end tests: Debian's Chromium driven by Playwright
(never a browser Playwright downloads), with a screenshot of each test's last page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import pytest
from playwright.async_api import Browser, Page, async_playwright

from chain429.admin.dashboard_routes import INDEX, WEB_ROOT
from chain429.server import RunningServer
from tests.e2e import dashboard_states

CHROMIUM: Final = Path("/usr/bin/chromium")
#: Without the networking flags Chromium keeps calling hosts this machine cannot reach.
CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS: Final = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    if not (WEB_ROOT / INDEX).is_file():
        pytest.fail(f"the dashboard is not built in {WEB_ROOT}: run make setup")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A fresh tab 1280 px wide; its last state is saved as test-artifacts/<test name>.png."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    tab = await context.new_page()
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    await tab.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    await context.close()


@pytest.fixture
async def stocked_proxy(proxy_factory, tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A proxy with data on every page of the dashboard (see `dashboard_states`)."""
    async with dashboard_states.stocked_proxy(proxy_factory, tmp_path) as proxy:
        yield proxy
