"""The Overview in a real browser against a real proxy and the simulator: requests sent through
the proxy show up in the totals and the charts without a reload, and each chain lists the
requests and tokens its entries have left until their reset."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator

import pytest
from openai import AsyncOpenAI
from playwright.async_api import Page, Response, expect

from chain429.server import RunningServer
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from tests.e2e.conftest import ARTIFACTS
from tests.support.proxy import ADMIN_KEY, make_config

SENT = 5
FIRST_LOAD_LIMIT = 250_000


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    """`tight` takes 3 requests a minute and says so in OpenAI's headers; `roomy` takes 100."""
    sim = Simulator(
        [
            SimProviderConfig(
                name="tight",
                dialect=Dialect.OPENAI,
                requests_per_window=3,
                tokens_per_window=10_000,
            ),
            SimProviderConfig(
                name="roomy",
                dialect=Dialect.OPENAI,
                requests_per_window=100,
                tokens_per_window=50_000,
            ),
        ]
    )
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def proxy(proxy_factory, simulator, tmp_path) -> RunningServer:
    config = make_config(
        [("tight", simulator.base_url("tight")), ("roomy", simulator.base_url("roomy"))],
        chain=[("tight", "sim-small"), ("roomy", "sim-small")],
        extra_chains={"quick": [("roomy", "sim-large")]},
        admin=True,
        settings={"recordUsage": True, "dbPath": str(tmp_path / "usage.db")},
    )
    return await proxy_factory(config)


async def send(client_factory, proxy: RunningServer, model: str, *, stream: bool) -> None:
    client: AsyncOpenAI = client_factory(proxy)
    messages = [{"role": "user", "content": "hello"}]
    if stream:
        chunks = await client.chat.completions.create(model=model, messages=messages, stream=True)
        async for _ in chunks:
            pass
    else:
        await client.chat.completions.create(model=model, messages=messages)


async def test_requests_fill_the_totals_charts_and_capacity_live(
    page: Page, proxy, client_factory
) -> None:
    await page.goto(proxy.url)
    await page.get_by_label("Admin key").fill(ADMIN_KEY)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    empty = page.get_by_role("heading", name="No requests in this range yet")
    await expect(empty).to_be_visible()
    await expect(page.get_by_text(f"{proxy.url}/v1").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "overview_empty.png", full_page=True)

    for number in range(SENT - 1):
        await send(client_factory, proxy, "default", stream=number == 0)
    await send(client_factory, proxy, "quick", stream=False)

    requests = page.locator('[data-total="Requests"] .total-value')
    await expect(requests).to_have_text(str(SENT), timeout=8000)
    await expect(empty).to_have_count(0)
    fallthrough = page.locator('[data-total="Fall-through rate"]')
    await expect(fallthrough).to_contain_text("1 needed more than one entry")
    latency = page.locator('[data-total="Latency p50 / p95"] .total-value')
    await expect(latency).to_have_text(re.compile(r"^\d+ ms / \d+ ms$"))
    ttft = page.locator('[data-total="Time to first token p50 / p95"] .total-value')
    await expect(ttft).to_have_text(re.compile(r"^\d+ ms / \d+ ms$"))

    per_provider = page.get_by_role("figure", name="Requests per provider")
    await expect(per_provider.locator("svg.recharts-surface").first).to_be_visible()
    await expect(per_provider.locator(".recharts-bar")).to_have_count(2)
    await expect(per_provider.locator(".recharts-bar-rectangle path").first).to_be_visible()
    await per_provider.get_by_text("Requests per provider as a table").click()
    table_rows = per_provider.locator("tbody tr")
    await expect(table_rows.filter(has_text="tight")).to_contain_text("3")
    await expect(table_rows.filter(has_text="roomy")).to_contain_text("2")
    per_chain = page.get_by_role("figure", name="Requests per chain")
    await expect(per_chain.locator(".recharts-bar")).to_have_count(2)

    default = page.get_by_role("table", name="Capacity of chain default")
    tight = default.locator('tr[data-entry="tight/sim-small"]')
    await expect(tight).to_contain_text("0 of 3 · resets in")
    await expect(tight).to_contain_text("quota exhausted")
    await expect(tight.locator("time.countdown").first).to_have_text(re.compile(r"^\d+s$"))
    roomy = default.locator('tr[data-entry="roomy/sim-small"]')
    await expect(roomy).to_contain_text("ready")
    await expect(roomy).to_contain_text(re.compile(r"\d+ of 100 ·"))
    await expect(roomy).to_contain_text(re.compile(r"[\d,]+ of 50,000 ·"))
    quick = page.get_by_role("table", name="Capacity of chain quick")
    await expect(quick.locator('tr[data-entry="roomy/sim-large"]')).to_contain_text("of 100")

    await page.screenshot(path=ARTIFACTS / "overview_1280.png", full_page=True)

    await page.get_by_label("Range").select_option(label="Last 7 days")
    await expect(page.get_by_role("heading", name="Last 7 days")).to_be_visible()
    await expect(requests).to_have_text(str(SENT))
    await page.get_by_label("Charts show").select_option(label="Latency p95")
    latency_chart = page.get_by_role("figure", name="Latency p95 per chain")
    await expect(latency_chart.locator(".recharts-line")).to_have_count(2)
    await page.get_by_label("Charts show").select_option(label="Tokens")
    await expect(page.get_by_role("figure", name="Tokens per chain")).to_be_visible()

    await page.set_viewport_size({"width": 1024, "height": 800})
    await page.get_by_label("Range").select_option(label="Last hour")
    await expect(page.get_by_role("figure", name="Tokens per provider")).to_be_visible()
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow == 0
    await page.screenshot(path=ARTIFACTS / "overview_1024.png", full_page=True)


async def test_without_usage_recording_it_says_so_and_still_shows_capacity(
    page: Page, proxy_factory, simulator
) -> None:
    config = make_config([("roomy", simulator.base_url("roomy"))], admin=True)
    proxy = await proxy_factory(config)
    await page.goto(proxy.url)
    await page.get_by_label("Admin key").fill(ADMIN_KEY)
    await page.get_by_role("button", name="Sign in").click()

    alerts = page.get_by_role("alert")
    await expect(alerts.first).to_contain_text("usage recording is off")
    await expect(alerts.filter(has_text="object Object")).to_have_count(0)
    capacity = page.get_by_role("table", name="Capacity of chain default")
    await expect(capacity.locator('tr[data-entry="roomy/roomy-model"]')).to_contain_text("ready")


async def test_the_first_load_is_small_and_the_charts_come_with_the_overview(
    page: Page, proxy
) -> None:
    scripts: list[Response] = []
    page.on("response", lambda response: scripts.append(response))

    def names() -> list[str]:
        return [r.url.rsplit("/", 1)[-1] for r in scripts if r.url.endswith(".js")]

    await page.goto(proxy.url)
    await expect(page.get_by_label("Admin key")).to_be_visible()
    bodies = [await r.body() for r in scripts if r.url.endswith(".js")]
    first_load = sum(len(gzip.compress(body)) for body in bodies)
    assert 0 < first_load < FIRST_LOAD_LIMIT, first_load
    assert not any(name.startswith("usage-chart") for name in names())

    await page.get_by_label("Admin key").fill(ADMIN_KEY)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Free capacity now")).to_be_visible()
    await expect(page.get_by_role("heading", name="Requests over time")).to_be_visible()
    await expect(page.get_by_text("No requests in this range.").first).to_be_visible()
    assert any(name.startswith("usage-chart") for name in names())
