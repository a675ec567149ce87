"""`/api/ratelimits` `chains`: the entry each chain would use now, or when one frees up."""

from __future__ import annotations

import aiohttp
import pytest

from chain429.app import AppOptions
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.proxy import ADMIN_KEY, make_config
from tests.support.upstream import ok, reply

START = 1_800_000_000.0


def rate_limited(retry_after_s: int):
    return reply(
        429,
        {"error": {"message": "Too many requests"}},
        headers={"retry-after": str(retry_after_s)},
    )


@pytest.fixture
async def http():
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as session:
        yield session


async def status(http: aiohttp.ClientSession, url: str) -> dict:
    async with http.get(f"{url}/api/ratelimits") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def chains(http: aiohttp.ClientSession, url: str) -> list[dict]:
    return (await status(http, url))["chains"]


async def two_limited(upstream_factory, proxy_factory, clock, first_s: int, second_s: int):
    """`first` (a 429, then ok) then `second` (ok, then 429s) in the default chain; an `other`
    chain over `second` alone."""
    first = await upstream_factory(rate_limited(first_s), ok())
    second = await upstream_factory(ok(), rate_limited(second_s))
    config = make_config(
        [("first", first.base_url), ("second", second.base_url)],
        extra_chains={"other": [("second", "second-model")]},
        admin=True,
    )
    return await proxy_factory(config, AppOptions(clock=clock))


async def test_each_chain_would_use_its_first_entry_at_the_start(
    upstream_factory, proxy_factory, http
):
    server = await two_limited(upstream_factory, proxy_factory, FakeClock(START), 30, 10)
    assert await chains(http, server.url) == [
        {
            "name": "default",
            "isDefault": True,
            "queued": 0,
            "next": {"provider": "first", "model": "first-model"},
            "freeAt": None,
        },
        {
            "name": "other",
            "isDefault": False,
            "queued": 0,
            "next": {"provider": "second", "model": "second-model"},
            "freeAt": None,
        },
    ]


async def test_an_exhausted_first_entry_moves_next_to_the_second_then_none_until_the_soonest(
    upstream_factory, proxy_factory, http
):
    clock = FakeClock(START)
    server = await two_limited(upstream_factory, proxy_factory, clock, 30, 10)
    # Served by `second` once the 429 of `first` cooled it down for 30 s.
    first_call = await chat(http, server)
    assert first_call.status == 200
    default, _ = await chains(http, server.url)
    assert default["next"] == {"provider": "second", "model": "second-model"}
    assert default["freeAt"] is None

    # `second` answers its 429 to the `other` chain: cooling down 10 s, sooner than `first`.
    assert (await chat(http, server, model="other")).status == 429
    body = await status(http, server.url)
    cooldowns = {e["provider"]: e["cooldownUntil"] for e in body["entries"]}
    assert START * 1000 < cooldowns["second"] < cooldowns["first"]
    default, other = body["chains"]
    assert default["next"] is None and other["next"] is None
    # The soonest entry's reset: its cooldown, or its exhausted window's reset if later.
    assert default["freeAt"] == other["freeAt"]
    assert cooldowns["second"] <= default["freeAt"] <= cooldowns["second"] + 1000

    clock.advance(11)
    default, other = await chains(http, server.url)
    assert default["next"] == {"provider": "second", "model": "second-model"}
    assert default["freeAt"] is None
    clock.advance(20)
    assert clock.now() * 1000 >= cooldowns["first"]
    default, _ = await chains(http, server.url)
    assert default["next"] == {"provider": "first", "model": "first-model"}
