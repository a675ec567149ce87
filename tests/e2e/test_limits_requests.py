"""The live pages in a real browser against a real proxy: a request sent through the proxy
appears on the Requests page without a reload, with its attempts and their reasons; an entry
answered 429 with retry-after shows its cooldown counting down on the Limits page, and its
chain moving to the next entry (or, with none left, counting down to the soonest)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from openai import AsyncOpenAI, RateLimitError
from playwright.async_api import Page, expect

from chain429.server import RunningServer
from tests.e2e.conftest import ARTIFACTS
from tests.support.proxy import ADMIN_KEY, CLIENT_KEY, make_config
from tests.support.upstream import FakeUpstream, ok


async def rate_limited(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
    return web.json_response(
        {"error": {"message": "slow down"}}, status=429, headers={"retry-after": "120"}
    )


@pytest.fixture
async def upstreams() -> AsyncIterator[tuple[FakeUpstream, FakeUpstream]]:
    busy = await FakeUpstream([rate_limited]).start()
    free = await FakeUpstream([ok("hi there")]).start()
    yield busy, free
    await busy.stop()
    await free.stop()


@pytest.fixture
async def proxy(proxy_factory, upstreams, tmp_path) -> RunningServer:
    busy, free = upstreams
    config = make_config(
        [("busy", busy.base_url), ("free", free.base_url)],
        admin=True,
        provider_extra={"free": {"rateLimits": {"requestsPerMinute": 10}}},
        settings={"recordUsage": True, "dbPath": str(tmp_path / "usage.db")},
    )
    return await proxy_factory(config)


async def sign_in_to(page: Page, proxy: RunningServer, path: str) -> None:
    await page.goto(f"{proxy.url}{path}")
    await page.get_by_label("Admin key").fill(ADMIN_KEY)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{proxy.url}{path}")


async def send_one(proxy: RunningServer) -> str:
    client = AsyncOpenAI(base_url=f"{proxy.url}/v1", api_key=CLIENT_KEY, max_retries=0)
    async with client:
        reply = await client.chat.completions.with_raw_response.create(
            model="default", messages=[{"role": "user", "content": "hello"}]
        )
    return reply.headers["x-request-id"]


async def test_a_new_request_appears_live_with_its_attempts(page: Page, proxy) -> None:
    await sign_in_to(page, proxy, "/requests")
    await expect(page.get_by_text("No requests yet.")).to_be_visible()

    request_id = await send_one(proxy)

    log = page.get_by_role("table", name="Request log")
    row = log.locator(f'tr[data-request-id="{request_id}"]')
    await expect(row).to_be_visible(timeout=2000)
    await expect(row).to_contain_text("free/free-model")
    await expect(row).to_contain_text("200")
    await row.get_by_role("button", name=f"Attempts of {request_id}").click()
    attempts = log.locator("table.attempts")
    await expect(attempts).to_contain_text("busy/busy-model")
    await expect(attempts).to_contain_text("rate_limited")
    await expect(attempts).to_contain_text("HTTP 429: slow down")
    await expect(attempts).to_contain_text("served")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "requests_row_expanded.png", full_page=True)

    await page.get_by_label("Outcome").select_option("429")
    await expect(page.get_by_text("No requests match these filters.")).to_be_visible()


async def test_an_exhausted_entry_shows_its_cooldown_counting_down(page: Page, proxy) -> None:
    await sign_in_to(page, proxy, "/limits")
    busy = page.locator('[data-entry="busy/busy-model"]')
    await expect(busy).to_contain_text("available")
    chains = page.get_by_role("table", name="Chains: the entry each would use now")
    default = chains.get_by_role("row").filter(has_text="default")
    await expect(default).to_have_text(re.compile(r"^default \(default\)busy/busy-model0$"))

    await send_one(proxy)

    await expect(busy).to_contain_text("exhausted", timeout=4000)
    await expect(busy).to_contain_text("HTTP 429: slow down")
    # The chain would now skip the cooling entry for the next one, live.
    await expect(default.get_by_role("cell").nth(1)).to_have_text("free/free-model")
    free = page.locator('[data-entry="free/free-model"]')
    await expect(free.locator("table.attempts")).to_contain_text("manual")
    metric = free.locator("table.attempts tbody tr").first
    await expect(metric.locator("td").nth(1)).to_have_text("10")
    await expect(metric.locator("td").nth(2)).to_have_text("9")
    await expect(metric.locator("time.countdown")).to_have_text(re.compile(r"^\d+s$"))
    countdown = busy.locator("time.countdown")
    await expect(countdown).to_have_text(re.compile(r"^(2m 00s|1m \d\ds)$"))
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "limits_cooldown.png", full_page=True)
    first = await countdown.text_content()
    await expect(countdown).not_to_have_text(first or "", timeout=3000)


async def test_requests_says_how_to_turn_the_log_on_when_recording_is_off(
    page: Page, proxy_factory, upstreams
) -> None:
    _, free = upstreams
    quiet = await proxy_factory(make_config([("free", free.base_url)], admin=True))

    await sign_in_to(page, quiet, "/requests")

    notice = page.get_by_text("No request log: usage recording is off")
    await expect(notice).to_contain_text("settings.recordUsage: false")
    await expect(page.get_by_role("alert")).to_have_count(0)


async def test_a_chain_with_every_entry_exhausted_counts_down_to_the_soonest(
    page: Page, proxy_factory, upstreams
) -> None:
    busy, _ = upstreams
    only_busy = await proxy_factory(make_config([("busy", busy.base_url)], admin=True))
    await sign_in_to(page, only_busy, "/limits")
    chains = page.get_by_role("table", name="Chains: the entry each would use now")
    would_use = chains.get_by_role("row").filter(has_text="default").get_by_role("cell").nth(1)
    await expect(would_use).to_have_text("busy/busy-model")

    client = AsyncOpenAI(base_url=f"{only_busy.url}/v1", api_key=CLIENT_KEY, max_retries=0)
    async with client:
        with pytest.raises(RateLimitError):
            await client.chat.completions.create(
                model="default", messages=[{"role": "user", "content": "hello"}]
            )

    await expect(would_use).to_have_text(
        re.compile(r"^none free; next frees in (2m 00s|1m \d\ds)$"), timeout=4000
    )
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "limits_chain_none_free.png", full_page=True)
