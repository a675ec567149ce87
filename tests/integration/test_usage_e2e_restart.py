"""What limits learned survives a restart: proxy #1 learns an entry is exhausted, saves the
snapshot when it stops, and proxy #2 on the same database skips that entry without calling it,
and says so in `/api/ratelimits` and `/v1/ratelimits`, until the learned reset time passes."""

from __future__ import annotations

from typing import Any

import aiohttp

from chain429.app import AppOptions
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.upstream import ok, reply
from tests.support.usage_db import logged_request, query, usage_settings

T0 = 1_800_000_000.0
AUTH = {"Authorization": f"Bearer {CLIENT_KEY}"}


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url, headers=AUTH) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def entry_status(http: aiohttp.ClientSession, url: str, provider: str) -> dict[str, Any]:
    """The `/api/ratelimits` entry of `provider`, with the `/v1/ratelimits` status beside it."""
    (detailed,) = [
        e
        for e in (await get_json(http, f"{url}/api/ratelimits"))["entries"]
        if e["provider"] == provider
    ]
    (original,) = [
        e
        for e in (await get_json(http, f"{url}/v1/ratelimits"))["ratelimits"]
        if e["provider"] == provider
    ]
    return detailed | {"originalStatus": original["status"]}


async def served_by(http, server) -> tuple[str, list[tuple[str, str]]]:
    answer = await chat(http, server)
    assert answer.status == 200, answer.body
    row = await logged_request(http, server.url, answer.headers["X-Request-Id"])
    return row["provider"], [(a["provider"], a["outcome"]) for a in row["attempts"]]


async def test_a_cooldown_from_retry_after_survives_a_restart(
    upstream_factory, proxy_factory, http, tmp_path
):
    a = await upstream_factory(reply(429, {"error": {"message": "quota"}}, {"retry-after": "3600"}))
    b = await upstream_factory(ok())
    db = tmp_path / "u.db"
    config = make_config([("a", a.base_url), ("b", b.base_url)], settings=usage_settings(db))

    first = await proxy_factory(config, AppOptions(clock=FakeClock(T0)))
    assert await served_by(http, first) == ("b", [("a", "rate_limited"), ("b", "served")])
    await first.stop()
    assert query(db, "SELECT count(*) AS n FROM limit_state") == [{"n": 1}]

    second = await proxy_factory(config, AppOptions(clock=FakeClock(T0 + 60)))
    status = await entry_status(http, second.url, "a")
    assert (status["status"], status["originalStatus"]) == ("exhausted", "exhausted")
    assert status["cooldownUntil"] == (T0 + 3600) * 1000
    assert (await entry_status(http, second.url, "b"))["status"] != "exhausted"
    assert await served_by(http, second) == ("b", [("a", "skipped"), ("b", "served")])
    assert (a.calls, b.calls) == (1, 2)
    await second.stop()

    third = await proxy_factory(config, AppOptions(clock=FakeClock(T0 + 3601)))
    assert (await entry_status(http, third.url, "a"))["status"] == "available"
    await chat(http, third)
    assert a.calls == 2, "a cooldown that has passed is not restored"


async def test_an_exhausted_groq_window_survives_a_restart(
    upstream_factory, proxy_factory, http, tmp_path
):
    clock = FakeClock(T0)
    limited = SimProviderConfig(name="g", dialect=Dialect.GROQ, requests_per_window=1)
    async with Simulator([limited], clock=clock) as sim:
        b = await upstream_factory(ok())
        db = tmp_path / "u.db"
        config = make_config(
            [("g", sim.base_url("g")), ("b", b.base_url)],
            provider_types={"g": "groq"},
            settings=usage_settings(db),
        )
        first = await proxy_factory(config, AppOptions(clock=clock))
        assert await served_by(http, first) == ("g", [("g", "served")])
        assert (await entry_status(http, first.url, "g"))["status"] == "exhausted"
        await first.stop()

        clock.advance(5)
        second = await proxy_factory(config, AppOptions(clock=clock))
        status = await entry_status(http, second.url, "g")
        assert (status["status"], status["originalStatus"]) == ("exhausted", "exhausted")
        requests = next(m for m in status["metrics"] if m["kind"] == "requests")
        assert (requests["limit"], requests["remaining"]) == (1, 0)
        assert await served_by(http, second) == ("b", [("g", "skipped"), ("b", "served")])
        assert sim.stats("g")["requests"] == 1, "the exhausted entry was not called again"
