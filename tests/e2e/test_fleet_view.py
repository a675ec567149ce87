"""The dashboard of one of two replicas sharing Redis, in a window 1024 px wide: its badge
says the view is the fleet's and lists both replicas, and the Limits page counts the requests
the other replica has in flight, with no sideways scrolling and nothing axe calls serious. The
screenshot is that page."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Page, expect

from chain429.app import AppOptions
from tests.e2e.axe import assert_accessible
from tests.e2e.test_limits_requests import sign_in_to
from tests.e2e.test_narrow_window import NARROWEST, assert_no_sideways_scrolling
from tests.integration.test_replicas_redis import ask
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.redis_server import RedisServer
from tests.support.upstream import gated, ok
from tests.support.usage_records import MemorySink


async def test_the_dashboard_of_a_replica_shows_the_fleet(
    page: Page, upstream_factory, proxy_factory, client_factory, redis_server: RedisServer
) -> None:
    gate = asyncio.Event()
    slow = await upstream_factory(gated(ok(), gate), gated(ok(), gate))
    config = make_config(
        [("groq", slow.base_url)],
        admin=True,
        settings={"stateStore": redis_server.url},
        provider_extra={"groq": {"rateLimits": {"requestsPerMinute": 5}}},
    )
    one, two = [await proxy_factory(config, AppOptions(sink=MemorySink())) for _ in range(2)]
    in_flight = [asyncio.ensure_future(ask(client_factory(one, timeout=30))) for _ in range(2)]
    await eventually(lambda: slow.calls == 2, what="both requests at the upstream")
    await page.set_viewport_size(NARROWEST)

    await sign_in_to(page, two, "/limits")

    badge = page.get_by_text("Shared through Redis · 2 replicas")
    await expect(badge).to_be_visible(timeout=10_000)
    await badge.click()
    await expect(page.get_by_role("list", name="Replicas").get_by_role("listitem")).to_have_count(2)
    await expect(page.get_by_text("(this one)")).to_be_visible()
    await expect(page.get_by_text(re.compile(r"^Fleet-wide:"))).to_be_visible()
    row = page.locator('tr[data-entry="groq/groq-model"]')
    await expect(row.locator("> td").nth(4)).to_have_text("2", timeout=10_000)
    await assert_no_sideways_scrolling(page)
    await assert_accessible(page, "the Limits page of a fleet, its badge open")
    gate.set()
    await asyncio.gather(*in_flight)
