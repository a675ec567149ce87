"""A provider that sends no rate-limit headers, against the simulator on one fake clock: its
limit is learned from one 429, shown as `learned`, admitted against, and kept across a restart
(issue #13's target: 4 per 6 s under 2 requests a second for 3 windows)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from chain429.app import AppOptions
from chain429.server import RunningServer
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.usage_db import query, usage_settings
from tests.support.usage_records import MemorySink

T0 = 1_800_000_000.0
AUTH = {"Authorization": f"Bearer {CLIENT_KEY}"}
LIMIT, WINDOW_S = 4, 6.0


@pytest.fixture
async def quiet():
    """`quiet` allows 4 per 6 s window and says nothing of it; `spare` has no limit."""
    clock = FakeClock(T0)
    sim = Simulator(
        [
            SimProviderConfig(
                name="quiet",
                dialect=Dialect.NONE,
                requests_per_window=LIMIT,
                window_seconds=WINDOW_S,
            ),
            SimProviderConfig(name="spare", dialect=Dialect.NONE),
        ],
        clock=clock,
    )
    await sim.start()
    yield clock, sim
    await sim.stop()


def config_for(sim: Simulator, **settings: Any) -> Any:
    return make_config(
        [("quiet", sim.base_url("quiet")), ("spare", sim.base_url("spare"))], settings=settings
    )


async def steady(
    http: aiohttp.ClientSession,
    server: RunningServer,
    clock: FakeClock,
    sim: Simulator,
    *,
    seconds: float,
    rate: float = 2.0,
    start: float = T0,
) -> list[float]:
    """A request every 1/rate s (the clock set to each one's time); when `quiet` said 429."""
    refused: list[float] = []
    for step in range(round(seconds * rate)):
        clock.set(start + step / rate)
        before = sim.stats("quiet")["rate_limited"]
        answer = await chat(http, server)
        assert answer.status == 200, answer.body
        if sim.stats("quiet")["rate_limited"] > before:
            refused.append(step / rate)
    return refused


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url, headers=AUTH) as response:
        assert response.status == 200, await response.text()
        return await response.json()


@pytest.mark.parametrize(
    "how",
    [
        pytest.param({"geminiBody": True}, id="retry-delay-in-the-body"),
        pytest.param({"retryAfter": True}, id="retry-after"),
        pytest.param({"retryAfter": False}, id="bare-429"),
    ],
)
async def test_a_header_less_limit_costs_one_429_and_is_used_to_90_percent(
    quiet, proxy_factory, http, how
):
    clock, sim = quiet
    sim.configure("quiet", how)
    # A bare 429 names no time: the first return is the cooldown's guess (here shorter than
    # the default minute, as the window is shorter than a minute).
    settings = {"cooldownDefaultMs": 4_000} if how == {"retryAfter": False} else {}
    server = await proxy_factory(config_for(sim, **settings), AppOptions(clock=clock))

    refused = await steady(http, server, clock, sim, seconds=3 * WINDOW_S)

    assert len(refused) == 1 and refused[0] < WINDOW_S, refused
    served = sim.stats("quiet")["by_status"].get("200", 0)
    assert served >= 0.9 * 3 * LIMIT, served
    (entry,) = [
        e
        for e in (await get_json(http, f"{server.url}/api/ratelimits"))["entries"]
        if e["provider"] == "quiet"
    ]
    (metric,) = entry["metrics"]
    assert (metric["source"], metric["kind"], metric["limit"]) == ("learned", "requests", LIMIT)
    (row,) = [
        r
        for r in (await get_json(http, f"{server.url}/v1/ratelimits"))["ratelimits"]
        if r["provider"] == "quiet"
    ]
    assert row["status"] in ("tracking", "exhausted")
    assert row["quota"]["remainingRequests"] == metric["remaining"]
    assert row["quota"]["source"] == "learned"


async def test_a_learned_limit_survives_a_restart(quiet, proxy_factory, http, tmp_path):
    clock, sim = quiet
    db = tmp_path / "usage.db"
    config = config_for(sim, **usage_settings(db))
    first = await proxy_factory(config, AppOptions(clock=clock))
    await steady(http, first, clock, sim, seconds=WINDOW_S)
    assert sim.stats("quiet")["rate_limited"] == 1
    await first.stop()
    saved = query(db, "SELECT data FROM limit_state")
    assert '"learned"' in saved[0]["data"]

    clock.set(T0 + 600)
    sim.reset("quiet")
    second = await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink()))
    entries = (await get_json(http, f"{second.url}/api/ratelimits"))["entries"]
    (entry,) = [e for e in entries if e["provider"] == "quiet"]
    assert [(m["source"], m["limit"], m["remaining"]) for m in entry["metrics"]] == [
        ("learned", LIMIT, LIMIT)
    ]
    answers = await asyncio.gather(*(chat(http, second) for _ in range(10)))
    providers = [a.headers["X-429chain-Provider"] for a in answers]
    assert providers.count("quiet/quiet-model") == LIMIT
    assert sim.stats("quiet")["requests"] == LIMIT, "no call beyond what was learned"
    assert sim.stats("quiet")["rate_limited"] == 0
