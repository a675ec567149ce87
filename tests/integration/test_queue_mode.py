"""Queue mode against a simulated provider, on one fake clock shared by proxy and simulator."""

from __future__ import annotations

import asyncio

import openai
import pytest

from chain429.app import AppOptions
from chain429.clock import FakeClock
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from chain429.state import STATE
from chain429.usage.records import MemorySink
from tests.support.polling import eventually
from tests.support.proxy import make_config

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def setup(proxy_factory, client_factory):
    clock = FakeClock()
    sim = Simulator(
        [SimProviderConfig(name="one", dialect=Dialect.OPENAI, requests_per_window=1)],
        clock=clock,
    )
    await sim.start()
    config = make_config(
        [("one", sim.base_url("one"))],
        settings={"queueMode": True, "queueMaxWaitMs": 20_000, "queueMaxSize": 2},
        provider_type="openai",
    )
    server = await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink()))
    client = client_factory(server)
    yield clock, sim, server, client
    await sim.stop()


def depth(server) -> int:
    queues = server.app[STATE].waterfall.queues
    return sum(queues.depths().values())


async def test_waiters_are_served_in_arrival_order_and_a_full_queue_is_refused(setup):
    clock, sim, server, client = setup
    await client.chat.completions.create(model="default", messages=MESSAGES)
    finished: list[str] = []

    async def ask(name: str) -> None:
        await client.chat.completions.create(model="default", messages=MESSAGES)
        finished.append(name)

    first = asyncio.ensure_future(ask("first"))
    await eventually(lambda: depth(server) == 1, what="first is queued")
    second = asyncio.ensure_future(ask("second"))
    await eventually(lambda: depth(server) == 2, what="second is queued")

    with pytest.raises(openai.RateLimitError) as refused:
        await client.chat.completions.create(model="default", messages=MESSAGES)
    assert refused.value.body["code"] == "queue_full"
    records = server.app[STATE].sink.records
    assert [r.error_class for r in records if r.status == 429] == ["queue_full"]

    for expected in (["first"], ["first", "second"]):
        clock.advance(61)
        server.app[STATE].waterfall.queues.wake_all()
        await eventually(
            lambda want=expected: finished == want, what=f"served in order: {expected}"
        )
    await asyncio.gather(first, second)
    assert sim.stats("one")["rate_limited"] == 0
    assert depth(server) == 0


async def test_a_client_that_leaves_the_queue_frees_its_place_at_once(setup):
    clock, sim, server, client = setup
    await client.chat.completions.create(model="default", messages=MESSAGES)
    leaving = asyncio.ensure_future(
        client.chat.completions.create(model="default", messages=MESSAGES)
    )
    await eventually(lambda: depth(server) == 1, what="queued")
    staying = asyncio.ensure_future(
        client.chat.completions.create(model="default", messages=MESSAGES)
    )
    await eventually(lambda: depth(server) == 2, what="both queued")
    leaving.cancel()
    await eventually(lambda: depth(server) == 1, what="the leaver is gone from the queue")
    clock.advance(61)
    server.app[STATE].waterfall.queues.wake_all()
    result = await asyncio.wait_for(staying, 5)
    assert result.choices[0].message.content
    assert sim.stats("one")["requests"] == 2
