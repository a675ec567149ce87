"""The Playground page in a real browser against a real proxy and fake upstreams: a prompt
streams in piece by piece with the entry serving it; a rate-limited first entry shows as an
attempt with its reason before the second serves; "Test every entry" gives one row per entry;
a chain no entry can serve shows the waterfall's message; Stop ends a stream."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web
from playwright.async_api import Page, expect

from chain429.server import RunningServer
from tests.e2e.conftest import ARTIFACTS
from tests.support.proxy import ADMIN_KEY, make_config
from tests.support.upstream import ok, sse, standard_events


async def rate_limited(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
    return web.json_response(
        {"error": {"message": "slow down"}}, status=429, headers={"retry-after": "120"}
    )


async def open_playground(page: Page, proxy: RunningServer) -> None:
    await page.goto(f"{proxy.url}/playground")
    await page.get_by_label("Admin key").fill(ADMIN_KEY)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Playground", level=1)).to_be_visible()
    await expect(page.get_by_label("Chain", exact=True)).to_have_value("default")


async def screenshots(page: Page, name: str) -> None:
    """The page at 1280 and at 1024 px wide, where nothing may scroll sideways."""
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"{name}_1280.png", full_page=True)
    await page.set_viewport_size({"width": 1024, "height": 800})
    await page.screenshot(path=ARTIFACTS / f"{name}_1024.png", full_page=True)
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


async def test_a_prompt_streams_in_with_its_serving_entry(
    page: Page, upstream_factory, proxy_factory
) -> None:
    gate = asyncio.Event()
    events = standard_events(["Hello", " there,", " friend"])
    upstream = await upstream_factory(sse(events, gate=gate, gate_after=2))
    proxy = await proxy_factory(make_config([("a", upstream.base_url)], admin=True))
    await open_playground(page, proxy)

    await page.get_by_label("Prompt", exact=True).fill("Greet me")
    await page.get_by_role("button", name="Send").click()

    answer = page.get_by_label("Answer text")
    await expect(answer).to_have_text("Hello")
    await expect(page.get_by_test_id("serving-entry")).to_have_text("a/a-model")
    await expect(page.get_by_role("status")).to_have_text("Streaming from a/a-model…")
    await expect(page.get_by_role("button", name="Stop")).to_be_enabled()
    gate.set()
    await expect(answer).to_have_text("Hello there, friend")
    await expect(page.get_by_role("status")).to_have_text("Done.")
    await expect(page.get_by_test_id("serving-entry")).to_have_text("a/a-model")
    timings = page.locator(".playground-timings")
    await expect(timings).to_contain_text(re.compile(r"Time to first token\s*\d+ ms"))
    await expect(timings).to_contain_text(re.compile(r"Total time\s*\d+ ms"))
    await expect(page.get_by_role("table", name="Attempts")).to_contain_text("served")
    assert upstream.received[0]["messages"] == [{"role": "user", "content": "Greet me"}]
    await screenshots(page, "playground_streamed")


async def test_stop_ends_the_stream(page: Page, upstream_factory, proxy_factory) -> None:
    gate = asyncio.Event()
    upstream = await upstream_factory(sse(standard_events(["Once", " upon"]), gate=gate))
    proxy = await proxy_factory(make_config([("a", upstream.base_url)], admin=True))
    await open_playground(page, proxy)

    await page.get_by_label("Prompt", exact=True).fill("Tell a story")
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("status")).to_have_text("Streaming from a/a-model…")
    await page.get_by_role("button", name="Stop").click()

    await expect(page.get_by_role("status")).to_have_text("Stopped.")
    await expect(page.get_by_role("button", name="Send")).to_be_enabled()
    await asyncio.wait_for(upstream.disconnected.wait(), timeout=5)
    gate.set()


async def test_a_rate_limited_entry_shows_as_an_attempt_before_the_next_serves(
    page: Page, upstream_factory, proxy_factory
) -> None:
    busy = await upstream_factory(rate_limited)
    free = await upstream_factory(ok("Hi from free"))
    config = make_config([("busy", busy.base_url), ("free", free.base_url)], admin=True)
    proxy = await proxy_factory(config)
    await open_playground(page, proxy)

    await page.get_by_label("Prompt", exact=True).fill("Hello?")
    await page.get_by_label("System prompt (optional)").fill("Be brief.")
    await page.get_by_label("Max tokens (optional)").fill("30")
    await page.get_by_label("Temperature (optional)").fill("0.2")
    await page.get_by_role("button", name="Send").click()

    await expect(page.get_by_label("Answer text")).to_have_text("Hi from free")
    await expect(page.get_by_test_id("serving-entry")).to_have_text("free/free-model")
    attempts = page.get_by_role("table", name="Attempts")
    first, second = attempts.locator("tbody tr").nth(0), attempts.locator("tbody tr").nth(1)
    await expect(first).to_contain_text("busy/busy-model")
    await expect(first).to_contain_text("rate limited")
    await expect(first).to_contain_text("HTTP 429: slow down")
    await expect(second).to_contain_text("free/free-model")
    await expect(second).to_contain_text("served")
    await expect(page.get_by_text("Fell through 1 entry before one served.")).to_be_visible()
    sent = free.received[0]
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello?"},
    ]
    assert (sent["max_tokens"], sent["temperature"]) == (30, 0.2)
    await screenshots(page, "playground_fell_through")


async def test_testing_every_entry_gives_a_row_per_entry(
    page: Page, upstream_factory, proxy_factory
) -> None:
    busy = await upstream_factory(rate_limited)
    free = await upstream_factory(ok("pong"))
    config = make_config([("busy", busy.base_url), ("free", free.base_url)], admin=True)
    proxy = await proxy_factory(config)
    await open_playground(page, proxy)

    await page.get_by_role("button", name="Test every entry").click()

    results = page.get_by_role("table", name="Entry results")
    rows = results.locator("tbody tr")
    await expect(rows).to_have_count(2)
    busy_row = results.locator('tr[data-entry="busy/busy-model"]')
    await expect(busy_row).to_contain_text("failed")
    await expect(busy_row).to_contain_text("HTTP 429: slow down")
    free_row = results.locator('tr[data-entry="free/free-model"]')
    await expect(free_row).to_contain_text("ok")
    await expect(free_row).to_contain_text("pong")
    await expect(free_row.locator("td").nth(3)).to_have_text(re.compile(r"^\d+ ms$"))
    await expect(page.get_by_text("1 ok, 1 failed, 0 skipped of 2.")).to_be_visible()
    await screenshots(page, "playground_every_entry")


async def test_a_chain_no_entry_serves_shows_the_message_and_the_attempts(
    page: Page, upstream_factory, proxy_factory
) -> None:
    busy = await upstream_factory(rate_limited)
    proxy = await proxy_factory(make_config([("busy", busy.base_url)], admin=True))
    await open_playground(page, proxy)

    await page.get_by_label("Prompt", exact=True).fill("Anyone?")
    await page.get_by_role("button", name="Send").click()

    await expect(page.get_by_role("status")).to_have_text("No answer (HTTP 429).")
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("No entry of chain 'default' can serve this request now")
    await expect(alert).to_contain_text("busy/busy-model: HTTP 429: slow down")
    attempts = page.get_by_role("table", name="Attempts")
    await expect(attempts).to_contain_text("busy/busy-model")
    await expect(attempts).to_contain_text("rate limited")
    await screenshots(page, "playground_no_entry_served")


async def test_one_entry_unknown_provider_is_refused_with_the_apis_message(
    page: Page, upstream_factory, proxy_factory
) -> None:
    upstream = await upstream_factory(ok())
    proxy = await proxy_factory(make_config([("a", upstream.base_url)], admin=True))
    await open_playground(page, proxy)

    await page.get_by_label("One entry").check()
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_text("Pick a provider.")).to_be_visible()
    await expect(page.get_by_text("Write a prompt.")).to_be_visible()

    await page.get_by_label("Provider").select_option("a")
    await page.get_by_label("Model").fill("a-model")
    await page.get_by_label("Prompt", exact=True).fill("Hi")
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_test_id("serving-entry")).to_have_text("a/a-model")
    await expect(page.get_by_label("Answer text")).to_have_text("hello")
