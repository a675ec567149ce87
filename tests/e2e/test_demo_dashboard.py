"""The demo as a user meets it: `429chain demo` prints the dashboard's URL and admin key; signed
in with that key, the Requests page fills with the demo's own traffic, falling through to the
next entries as the simulated limits run out, and the Providers page lists the simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.support.demo_process import shown, start_demo, stop_demo


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[str]:
    """A running demo sending a request every 0.15 to 0.45 s; its banner."""
    process, banner = await start_demo(tmp_path, ("--traffic-interval", "0.3"))
    yield banner
    output = await stop_demo(process)
    assert "Traceback" not in output


@pytest.mark.timeout(90)
async def test_the_demos_dashboard_moves_as_soon_as_it_opens(page: Page, demo: str) -> None:
    url = shown(demo, "dashboard")
    await page.goto(f"{url}requests")
    await page.get_by_label("Admin key").fill(shown(demo, "admin key"))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{url}requests")

    rows = page.get_by_role("table", name="Request log").locator("tr[data-request-id]")
    await expect(rows.first).to_be_visible()
    await expect(rows.filter(has_text="openrouter-sim/")).not_to_have_count(0, timeout=20_000)
    fast = page.get_by_role("cell", name="fast", exact=True)
    await expect(rows.filter(has=fast)).not_to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "demo_requests_live.png", full_page=True)

    await (
        page.get_by_role("navigation", name="Dashboard")
        .get_by_role("link", name="Providers")
        .click()
    )
    for name in ("groq-sim", "cerebras-sim", "openrouter-sim"):
        await expect(page.get_by_role("cell", name=name, exact=True).first).to_be_visible()
