"""The simulator counts the connections open to it (`Simulator.open_connections`, `GET
/_connections`), and a client that leaves ends its request's handler at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from chain429.sim import SimProviderConfig, Simulator
from tests.support.polling import eventually

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
MINUTES_MS = 600_000


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(
        [
            SimProviderConfig(name="quick"),
            SimProviderConfig(name="slow", latency_ms=MINUTES_MS),
            SimProviderConfig(name="silent", ttft_ms=MINUTES_MS),
        ]
    ) as simulator:
        yield simulator


async def test_keep_alive_connections_are_counted_until_their_client_closes_them(sim):
    assert sim.open_connections == 0
    async with aiohttp.ClientSession() as http:
        answers = [http.post(f"{sim.base_url('quick')}/chat/completions", json=CHAT) for _ in "ab"]
        for response in await asyncio.gather(*answers):
            assert response.status == 200
            await response.read()
            response.release()  # back to the client's pool: open, idle
        assert sim.open_connections == 2
    await eventually(lambda: sim.open_connections == 0, what="the pool's connections closed")


async def test_the_connections_route_counts_the_others_not_the_one_asking(sim):
    async with aiohttp.ClientSession() as http, aiohttp.ClientSession() as other:
        async with http.get(f"{sim.url}/_connections") as response:
            assert await response.json() == {"open": 0}
        async with other.get(f"{sim.url}/_stats") as response:
            assert response.status == 200
        async with http.get(f"{sim.url}/_connections") as response:
            assert await response.json() == {"open": 1}


@pytest.mark.parametrize("name", ["slow", "silent"])
async def test_a_client_leaving_a_slow_answer_ends_its_handler(sim, name):
    """Before the headers (`latencyMs`) or before the first event (`ttftMs`): the handler stops
    waiting when the client leaves, instead of sleeping out its minutes."""
    tasks = len(asyncio.all_tasks())
    async with aiohttp.ClientSession() as http:
        body = {**CHAT, "stream": True}
        pending = asyncio.ensure_future(
            http.post(f"{sim.base_url(name)}/chat/completions", json=body)
        )
        await eventually(lambda: sim.stats(name)["requests"] == 1, what="the request arrived")
        if name == "silent":
            response = await pending
            assert response.status == 200
            response.close()
        else:
            pending.cancel()
        await eventually(
            lambda: sim.stats(name)["client_disconnects"] == 1, what="the client seen leaving"
        )
    await eventually(lambda: sim.open_connections == 0, what="no connection left")
    await eventually(lambda: len(asyncio.all_tasks()) == tasks, what="the handler's task ended")
