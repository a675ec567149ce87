"""Every page of the dashboard, and the states of a page that show more than its first view (a
form opened, a row expanded), for the checks that hold on all of them: accessibility and fitting
a 1024 px window.

The pages are read from the dashboard's own list (`ui/src/app/pages.ts`), so a new page is
checked without editing this file; `test_accessibility.py` checks that the list matches the
links of the navigation. They are visited on a proxy with data on every page: providers with
manual limits, a second chain, and one request that fell through a 429 (an entry in cooldown,
a request with two attempts).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from aiohttp import web
from openai import AsyncOpenAI
from playwright.async_api import Page, expect

from chain429.server import RunningServer
from tests.support.config_file import ProxyFactory
from tests.support.proxy import ADMIN_KEY, CLIENT_KEY, make_config
from tests.support.upstream import FakeUpstream, model_list, ok

PAGES_SOURCE: Final = Path(__file__).resolve().parents[2] / "ui" / "src" / "app" / "pages.ts"
_PAGE_ENTRY: Final = re.compile(r'path:\s*"(?P<path>[^"]+)",\s*title:\s*"(?P<title>[^"]+)"')
SIGN_IN_PATH: Final = "/sign-in"


def navigation_pages() -> list[tuple[str, str]]:
    """(title, path) of each page in the navigation, in its order."""
    found = [(m["title"], m["path"]) for m in _PAGE_ENTRY.finditer(PAGES_SOURCE.read_text())]
    if not found:
        raise AssertionError(f"no page found in {PAGES_SOURCE}: did its shape change?")
    return found


Step = Callable[[Page], Awaitable[None]]


@dataclass(frozen=True)
class PageState:
    """A page as a user sees it: opened at `path`, then after `step` (a click that opens a form,
    say)."""

    name: str
    path: str
    step: Step | None = None
    signed_in: bool = True


async def _ready(page: Page, state: PageState) -> None:
    """Waits for the page's data: nothing loading any more, and what the proxy's data shows."""
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(page.get_by_text(re.compile(r"^Loading"))).to_have_count(0)
    shown = _SHOWN_WHEN_READY.get(state.path)
    if shown is not None:
        await expect(page.locator(shown).first).to_be_visible()


#: What each page shows once the proxy's data is in, for the pages that need waiting for.
_SHOWN_WHEN_READY: Final = {
    "/providers": 'table[aria-label="Providers"]',
    "/chains": 'ol[aria-label="Entries of default"]',
    "/requests": "tr[data-request-id]",
    "/limits": '[data-entry="busy/busy-model"] time.countdown',
}


async def _open_provider_form(page: Page) -> None:
    await page.get_by_role("button", name="Add a provider").click()
    form = page.get_by_role("form", name="Add provider")
    await form.get_by_role("button", name="Add provider").click()
    await expect(form.get_by_role("alert").first).to_be_visible()


async def _edit_chains(page: Page) -> None:
    await page.get_by_role("button", name="Delete fast").click()
    await page.get_by_role("button", name="New chain").click()
    form = page.get_by_role("form", name="New chain")
    await form.get_by_role("button", name="Create chain").click()
    await expect(form.get_by_role("alert").first).to_be_visible()


async def _expand_a_request(page: Page) -> None:
    await page.locator("tr[data-request-id] button.expand").first.click()
    await expect(page.locator("table.attempts")).to_contain_text("rate_limited")


async def _show_models(page: Page) -> None:
    table = page.get_by_role("table", name="Providers")
    await table.get_by_role("button", name="Models of free", exact=True).click()
    await expect(table.get_by_role("list", name="Models of free")).to_be_visible()
    await table.get_by_role("button", name="Models of busy", exact=True).click()
    await expect(table.get_by_role("alert")).to_contain_text("Could not list the models of busy")


async def _edit_entry_limits(page: Page) -> None:
    entry = page.get_by_role("list", name="Entries of default").get_by_role("listitem").first
    await entry.get_by_role("button", name=re.compile(r"^Limits of ")).click()
    await entry.get_by_label("Requests per minute").fill("-1")
    await entry.get_by_role("button", name=re.compile(r"^Set limits of ")).click()
    await expect(entry.get_by_role("alert")).to_be_visible()


def page_states() -> list[PageState]:
    """The sign-in page, each page of the navigation, then the states past a first view."""
    return [
        PageState("Sign-in", SIGN_IN_PATH, signed_in=False),
        *(PageState(title, path) for title, path in navigation_pages()),
        PageState("Providers-form-with-errors", "/providers", _open_provider_form),
        PageState("Chains-editing", "/chains", _edit_chains),
        PageState("Requests-row-expanded", "/requests", _expand_a_request),
        PageState("Providers-models-shown", "/providers", _show_models),
        PageState("Chains-entry-limits", "/chains", _edit_entry_limits),
    ]


def state_params() -> list[Any]:
    return [pytest.param(state, id=state.name) for state in page_states()]


async def open_state(page: Page, proxy: RunningServer, state: PageState) -> None:
    """Opens `state` as a user gets there: signing in on the way when it needs it."""
    await page.goto(f"{proxy.url}{state.path}")
    if state.signed_in:
        await page.get_by_label("Admin key").fill(ADMIN_KEY)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(f"{proxy.url}{state.path}")
        await _ready(page, state)
    else:
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
    if state.step is not None:
        await state.step(page)


async def _rate_limited(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
    return web.json_response(
        {"error": {"message": "slow down"}}, status=429, headers={"retry-after": "600"}
    )


@asynccontextmanager
async def stocked_proxy(
    proxy_factory: ProxyFactory, directory: Path
) -> AsyncIterator[RunningServer]:
    """A proxy with something on every page, one request already through it (its first entry
    answered 429, the second served it)."""
    busy = await FakeUpstream([_rate_limited]).start()
    free = await FakeUpstream([ok("hi there")]).start()
    free.models = [model_list(*(f"free-vendor/model-{n}-instruct-long-name" for n in range(30)))]
    try:
        limits = {"requestsPerMinute": 10, "requestsPerDay": 1000, "tokensPerMinute": 6000}
        config = make_config(
            [("busy", busy.base_url), ("free", free.base_url)],
            admin=True,
            provider_extra={"free": {"name": "A free provider", "rateLimits": limits}},
            extra_chains={"fast": [("free", "free-model")]},
            settings={"recordUsage": True, "dbPath": str(directory / "usage.db")},
        )
        proxy = await proxy_factory(config)
        client = AsyncOpenAI(base_url=f"{proxy.url}/v1", api_key=CLIENT_KEY, max_retries=0)
        async with client:
            await client.chat.completions.create(
                model="default", messages=[{"role": "user", "content": "hello"}]
            )
        yield proxy
    finally:
        await busy.stop()
        await free.stop()
