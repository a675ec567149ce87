"""OpenRouter's `GET /api/v1/key`, against the simulator: read at start, before the first
request, and every few minutes after; bounded; a failure is only logged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from chain429.app import AppOptions
from chain429.clock import SystemClock
from chain429.limits.tracker import LimitTracker, policy_from
from chain429.router import key_info
from chain429.router.key_info import KeyInfoReader
from chain429.router.plan import build_plans, build_traits
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from chain429.upstream_http import get_once
from tests.support.client import chat
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, PROVIDER_KEY, make_config
from tests.support.upstream import closed_port_url
from tests.support.usage_records import MemorySink

AUTH = {"Authorization": f"Bearer {CLIENT_KEY}"}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(
        [
            SimProviderConfig(
                name="or",
                dialect=Dialect.OPENROUTER,
                requests_per_window=5,
                window_seconds=10,
                api_key=PROVIDER_KEY,
            ),
            SimProviderConfig(name="spare", dialect=Dialect.NONE),
        ]
    )
    await simulator.start()
    yield simulator
    await simulator.stop()


def openrouter_config(base_url: str, spare: str, model: str = "paid-model") -> Any:
    return make_config(
        [("or", base_url), ("spare", spare)],
        chain=[("or", model), ("spare", "s")],
        provider_types={"or": "openrouter"},
    )


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url, headers=AUTH) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_the_key_limits_are_known_before_the_first_request(sim, proxy_factory, http):
    config = openrouter_config(sim.base_url("or"), sim.base_url("spare"), "x:free")
    server = await proxy_factory(config, AppOptions(sink=MemorySink()))
    assert sim.stats("or")["key_requests"] == 1
    assert sim.stats("or")["requests"] == 0

    entries = (await get_json(http, f"{server.url}/api/ratelimits"))["entries"]
    (entry,) = [e for e in entries if e["provider"] == "or"]
    metrics = {(m["scope"], m["window"]): m for m in entry["metrics"]}
    assert set(metrics) == {
        ("account", "unknown"),
        ("free-models", "day"),
        ("free-models", "minute"),
    }
    assert {m["source"] for m in metrics.values()} == {"key-info"}
    assert [metrics[k]["limit"] for k in sorted(metrics)] == [5, 50, 20]


async def test_a_cold_burst_is_admitted_against_the_account_limit(sim, proxy_factory, http):
    config = openrouter_config(sim.base_url("or"), sim.base_url("spare"))
    server = await proxy_factory(config, AppOptions(sink=MemorySink()))
    answers = await asyncio.gather(*(chat(http, server) for _ in range(12)))
    assert all(a.status == 200 for a in answers)
    served = [a.headers["X-429chain-Provider"] for a in answers]
    assert served.count("or/paid-model") == 5
    assert (sim.stats("or")["requests"], sim.stats("or")["rate_limited"]) == (5, 0)


async def test_a_key_endpoint_that_fails_is_logged_and_serving_goes_on(
    upstream_factory, sim, proxy_factory, http
):
    no_key_route = await upstream_factory()
    config = openrouter_config(no_key_route.base_url, sim.base_url("spare"))
    with capture_logs() as logs:
        server = await proxy_factory(config, AppOptions(sink=MemorySink()))
    failed = [e for e in logs if e["event"] == "key limits not read"]
    assert [(e["log_level"], e["provider"], e["error"]) for e in failed] == [
        ("warning", "or", "HTTP 404")
    ]
    assert PROVIDER_KEY not in str(logs)
    assert (await chat(http, server)).status == 200


async def answer_never(request: web.Request) -> web.StreamResponse:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def test_a_key_endpoint_that_never_answers_is_given_up(monkeypatch, sim):
    monkeypatch.setattr(key_info, "KEY_INFO_TIMEOUT_S", 0.2)
    app = web.Application()
    app.router.add_get("/v1/key", answer_never)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    config = openrouter_config(f"http://127.0.0.1:{port}/v1", sim.base_url("spare"))
    try:
        reader = reader_for(config)
        with capture_logs() as logs:
            assert await asyncio.wait_for(reader.read_all(), 5) == 0
        (event,) = logs
        assert event["error"] == "upstream did not answer in time"
    finally:
        await runner.cleanup()


async def test_a_fetch_that_ignores_its_timeout_is_cut_off(monkeypatch, sim):
    monkeypatch.setattr(key_info, "KEY_INFO_TIMEOUT_S", 0.05)

    async def never(url: str, headers: Any, timeout_s: float, limit: int) -> tuple[int, bytes]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    config = openrouter_config(sim.base_url("or"), sim.base_url("spare"))
    tracker = LimitTracker(policy_from(config.settings), SystemClock(), build_traits(config))
    plans = build_plans(config)
    reader = KeyInfoReader(lambda: plans, tracker, never, SystemClock())
    with capture_logs() as logs:
        assert await asyncio.wait_for(reader.read_all(), 5) == 0
    assert [e["error"] for e in logs] == ["no answer in time"]


def reader_for(config: Any, tracker: LimitTracker | None = None) -> KeyInfoReader:
    tracker = tracker or LimitTracker(
        policy_from(config.settings), SystemClock(), build_traits(config)
    )
    plans = build_plans(config)
    return KeyInfoReader(lambda: plans, tracker, get_once, SystemClock())


async def test_the_key_is_read_again_every_interval(sim):
    config = openrouter_config(sim.base_url("or"), sim.base_url("spare"))
    reader = reader_for(config)
    assert [(t.plan.provider.id, t.key_index) for t in reader.targets()] == [("or", 0)]
    task = asyncio.ensure_future(reader.run(interval_s=0.01))
    await eventually(lambda: sim.stats("or")["key_requests"] >= 3, what="three reads")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_keys_that_share_their_limits_are_read_once(sim):
    config = make_config(
        [("or", sim.base_url("or")), ("g", sim.base_url("spare"))],
        provider_types={"or": "openrouter", "g": "groq"},
        provider_extra={"or": {"apiKeys": ["sk-or-second-key-0002"]}},
    )
    assert [t.key_index for t in reader_for(config).targets()] == [0]
    apart = make_config(
        [("or", sim.base_url("or"))],
        provider_types={"or": "openrouter"},
        provider_extra={"or": {"apiKeys": ["sk-or-second-key-0002"], "keysShareLimits": False}},
    )
    assert [t.key_index for t in reader_for(apart).targets()] == [0, 1]


async def answer_text(request: web.Request) -> web.StreamResponse:
    return web.Response(text="<html>maintenance</html>", content_type="text/html")


@pytest.mark.parametrize("broken", ["refused", "not-json"])
async def test_an_unreachable_or_unreadable_key_endpoint_changes_nothing(sim, broken):
    app = web.Application()
    app.router.add_get("/v1/key", answer_text)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = (
        closed_port_url()
        if broken == "refused"
        else f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    )
    config = openrouter_config(url, sim.base_url("spare"))
    try:
        tracker = LimitTracker(policy_from(config.settings), SystemClock(), build_traits(config))
        reader = reader_for(config, tracker)
        with capture_logs() as logs:
            assert await reader.read_all() == 0
        (event,) = logs
        assert event["event"] == "key limits not read"
        expected = "cannot connect to upstream" if broken == "refused" else "the answer is not JSON"
        assert event["error"].startswith(expected)
        assert tracker.key_state("or", 0) is None
    finally:
        await runner.cleanup()
