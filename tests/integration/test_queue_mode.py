"""Queue mode against a simulated provider, on one fake clock shared by proxy and simulator.

Moving the clock is all it takes to wake a waiter: the queue's timers run on it.
"""

from __future__ import annotations

import asyncio

import openai
import pytest

from chain429.app import AppOptions
from chain429.outcome import Outcome
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from chain429.state import STATE
from tests.support.clock import FakeClock
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.upstream import ok
from tests.support.usage_db import logged_request, usage_settings
from tests.support.usage_records import MemorySink

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
        settings={"queueMode": True, "queueMaxWaitMs": 300_000, "queueMaxSize": 2},
        provider_type="openai",
    )
    server = await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink()))
    client = client_factory(server)
    yield clock, sim, server, client
    await sim.stop()


@pytest.fixture
async def beside_a_busy_chain(proxy_factory, client_factory, upstream_factory):
    """`default` over the simulator (one request a minute) and a chain `busy` over a fake
    upstream that always serves, on other provider."""
    clock = FakeClock()
    sim = Simulator(
        [SimProviderConfig(name="one", dialect=Dialect.OPENAI, requests_per_window=1)],
        clock=clock,
    )
    await sim.start()
    busy = await upstream_factory(ok())
    config = make_config(
        [("one", sim.base_url("one")), ("busy", busy.base_url)],
        chain=[("one", "one-model")],
        extra_chains={"busy": [("busy", "busy-model")]},
        settings={"queueMode": True, "queueMaxWaitMs": 300_000, "queueMaxSize": 2},
        provider_type="openai",
        provider_types={"busy": "generic-openai"},
    )
    sink = MemorySink()
    server = await proxy_factory(config, AppOptions(clock=clock, sink=sink))
    yield clock, server, client_factory(server), sink
    await sim.stop()


def admissions_of(server, provider_id: str) -> list[int]:
    """Count, from now on, the tracker's admission checks for `provider_id` (one per entry of
    that provider each time a request walks its chain)."""
    tracker = server.app[STATE].tracker
    admit = tracker.admit
    seen = [0]

    def counting(provider, model, demand=None):
        if provider.id == provider_id:
            seen[0] += 1
        return admit(provider, model, demand)

    tracker.admit = counting
    return seen


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
    result = await asyncio.wait_for(staying, 5)
    assert result.choices[0].message.content
    assert sim.stats("one")["requests"] == 2


async def test_a_queued_request_is_not_woken_by_another_chain_and_keeps_its_last_pass(
    beside_a_busy_chain,
):
    clock, server, client, sink = beside_a_busy_chain
    await client.chat.completions.create(model="default", messages=MESSAGES)
    queued = asyncio.ensure_future(
        client.chat.completions.with_raw_response.create(model="default", messages=MESSAGES)
    )
    await eventually(lambda: depth(server) == 1, what="queued")
    walks_of_default = admissions_of(server, "one")

    for _ in range(200):
        await client.chat.completions.create(model="busy", messages=MESSAGES)
    await client.chat.completions.create(model="busy", messages=MESSAGES)  # a loop turn later

    assert walks_of_default[0] == 0, "busy's releases woke the queue of default"
    assert depth(server) == 1
    clock.advance(61)
    raw = await asyncio.wait_for(queued, 5)
    assert raw.parse().choices[0].message.content
    record = next(r for r in sink.records if r.request_id == raw.headers["x-request-id"])
    assert [a.outcome for a in record.attempts] == [Outcome.SERVED]
    assert raw.headers["x-429chain-attempts"] == "1"
    assert record.queued_ms == pytest.approx(61_000)


async def test_a_waiter_gives_up_when_the_clock_passes_its_deadline(proxy_factory, client_factory):
    clock = FakeClock()
    async with Simulator(
        [SimProviderConfig(name="one", dialect=Dialect.OPENAI, requests_per_window=1)],
        clock=clock,
    ) as sim:
        config = make_config(
            [("one", sim.base_url("one"))],
            settings={"queueMode": True, "queueMaxWaitMs": 10_000},
            provider_type="openai",
        )
        server = await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink()))
        client = client_factory(server)
        await client.chat.completions.create(model="default", messages=MESSAGES)
        waiting = asyncio.ensure_future(
            client.chat.completions.create(model="default", messages=MESSAGES)
        )
        await eventually(lambda: depth(server) == 1, what="queued")
        clock.advance(9)
        await client.models.list()  # a round trip: time for a wrongly woken waiter to answer
        assert not waiting.done()
        clock.advance(2)  # past the deadline, the window still spent until minute 1
        with pytest.raises(openai.RateLimitError):
            await asyncio.wait_for(waiting, 5)
        record = server.app[STATE].sink.records[-1]
        assert record.status == 429
        assert record.queued_ms == pytest.approx(11_000)
        assert depth(server) == 0


async def test_the_wait_is_stored_with_the_request(proxy_factory, client_factory, http, tmp_path):
    clock = FakeClock()
    async with Simulator(
        [SimProviderConfig(name="one", dialect=Dialect.OPENAI, requests_per_window=1)],
        clock=clock,
    ) as sim:
        config = make_config(
            [("one", sim.base_url("one"))],
            settings=usage_settings(tmp_path / "usage.db", queueMode=True),
            provider_type="openai",
        )
        server = await proxy_factory(config, AppOptions(clock=clock))
        client = client_factory(server)
        first = await client.chat.completions.with_raw_response.create(
            model="default", messages=MESSAGES
        )
        waiting = asyncio.ensure_future(
            client.chat.completions.with_raw_response.create(model="default", messages=MESSAGES)
        )
        await eventually(lambda: depth(server) == 1, what="queued")
        clock.advance(61)
        second = await asyncio.wait_for(waiting, 5)
        waited = await logged_request(http, server.url, second.headers["x-request-id"])
        at_once = await logged_request(http, server.url, first.headers["x-request-id"])
    assert waited["queuedMs"] == pytest.approx(61_000)
    assert at_once["queuedMs"] is None


async def test_a_direct_entry_has_a_queue_only_while_requests_wait_in_it(setup):
    clock, sim, server, client = setup
    queues = server.app[STATE].waterfall.queues
    await client.chat.completions.create(model="one/one-model", messages=MESSAGES)
    waiting = asyncio.ensure_future(
        client.chat.completions.create(model="one/one-model", messages=MESSAGES)
    )
    await eventually(lambda: queues.depths().get("one/one-model") == 1, what="queued")
    clock.advance(61)
    assert (await asyncio.wait_for(waiting, 5)).choices[0].message.content
    assert set(queues.depths()) == {"default"}
