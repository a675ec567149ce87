"""Probing and learned limits across two proxies sharing one Redis (`settings.stateStore`),
against the simulator, through the openai SDK: an entry whose limits nobody knows gets
`probeConcurrency` probes from the whole fleet, not from each replica; the answer reaches the
other replica, which then admits without probing; a limit one replica learns from a 429 bounds
the other; a replica cut off while it holds the probe place frees it when its lease runs out;
and with Redis away each replica probes on its own."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import openai
import pytest

from chain429.app import AppOptions
from chain429.server import RunningServer
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from chain429.state import STATE
from chain429.state_store.opening import lease_s
from chain429.state_store.shared_tracker import SharedTracker
from tests.integration.test_replicas_redis import ask
from tests.support.clock import FakeClock
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.redis_cluster import ON_A_CLUSTER_TOO, RedisClusterServers
from tests.support.redis_server import RedisServer
from tests.support.upstream import gated, ok
from tests.support.usage_records import MemorySink

LATENCY = {"latency_ms": 300}
T0 = 1_800_000_000.0
#: The provider types whose header dialects the simulated providers speak.
TYPES = {"a": "openai", "b": "groq", "broken": "openai"}

Fleet = Callable[..., Awaitable[tuple[list[RunningServer], list[openai.AsyncOpenAI]]]]


@pytest.fixture
def fleet(proxy_factory, client_factory, shared_redis: RedisServer | RedisClusterServers) -> Fleet:
    """Two proxies over the simulator's providers `names` (a chain in that order, with `extra`
    provider fields) with `settings`, sharing `shared_redis`; the servers and an SDK client of
    each."""

    async def start(
        sim: Simulator,
        clock: FakeClock,
        names: tuple[str, ...],
        extra: dict[str, dict[str, Any]] | None = None,
        **settings: Any,
    ) -> tuple[list[RunningServer], list[openai.AsyncOpenAI]]:
        config = make_config(
            [(name, sim.base_url(name)) for name in names],
            provider_types=TYPES,
            settings={"stateStore": shared_redis.url, **settings},
            provider_extra=extra,
        )
        servers = [
            await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink()))
            for _ in range(2)
        ]
        for server in servers:  # an answer told before would go unheard (on a fake clock,
            tracker = server.app[STATE].tracker  # its waiters would wait for ever)
            assert isinstance(tracker, SharedTracker)
            await eventually(lambda t=tracker: t.hears_answers, what="following the answers")
        return servers, [client_factory(server, timeout=30) for server in servers]

    return start


async def split_burst(clients: list[openai.AsyncOpenAI], size: int) -> Counter[str]:
    """`size` requests at once, every other one to each replica; who served them."""
    served = await asyncio.gather(*(ask(clients[i % 2]) for i in range(size)))
    return Counter(provider for provider, _ in served)


@pytest.mark.parametrize("probes", [1, 3])
async def test_a_cold_burst_over_two_replicas_sends_a_failing_entry_only_the_fleets_probes(
    sim_factory, fleet, probes
) -> None:
    clock = FakeClock()
    sim = await sim_factory(
        SimProviderConfig(name="broken", dialect=Dialect.OPENAI, error_rate=1.0, **LATENCY),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
        clock=clock,
    )
    _, clients = await fleet(sim, clock, ("broken", "c"), probeConcurrency=probes)

    served = await split_burst(clients, 40)

    assert served == {"c": 40}
    assert sim.stats("broken")["requests"] == probes  # not `probes` from each replica


@ON_A_CLUSTER_TOO
async def test_a_cold_burst_over_two_replicas_fills_each_entry_to_its_limit_without_one_429(
    sim_factory, fleet
) -> None:
    clock = FakeClock()
    sim = await sim_factory(
        SimProviderConfig(name="a", dialect=Dialect.OPENAI, requests_per_window=10, **LATENCY),
        SimProviderConfig(name="b", dialect=Dialect.GROQ, requests_per_window=10, **LATENCY),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
        clock=clock,
    )
    _, clients = await fleet(sim, clock, ("a", "b", "c"))

    served = await split_burst(clients, 50)

    assert served == {"a": 10, "b": 10, "c": 30}
    for name in ("a", "b"):
        assert (sim.stats(name)["requests"], sim.stats(name)["rate_limited"]) == (10, 0), name


async def test_a_limit_learned_on_one_replica_is_honoured_by_the_other_with_no_wasted_call(
    sim_factory, fleet
) -> None:
    clock = FakeClock(T0)
    sim = await sim_factory(
        SimProviderConfig(
            name="quiet", dialect=Dialect.NONE, requests_per_window=4, window_seconds=6.0
        ),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
        clock=clock,
    )
    _, (one, two) = await fleet(sim, clock, ("quiet", "c"))
    # One learns: four served, the fifth refused (a 429 naming its retry time) and served by c.
    assert [(await ask(one))[0] for _ in range(5)] == ["quiet"] * 4 + ["c"]
    assert sim.stats("quiet")["rate_limited"] == 1
    clock.advance(6.5)  # the provider's window and the learned one have both turned over

    served = [(await ask(two))[0] for _ in range(6)]

    assert served == ["quiet"] * 4 + ["c"] * 2  # the fifth and sixth skip quiet: no call
    assert sim.stats("quiet")["rate_limited"] == 1
    assert sim.stats("quiet")["requests"] == 9


async def test_a_replica_cut_off_while_it_probes_frees_the_probe_place_within_the_lease(
    upstream_factory, proxy_factory, client_factory, redis_server
) -> None:
    clock = FakeClock()
    gate = asyncio.Event()
    slow = await upstream_factory(gated(ok(), gate), ok())
    spare = await upstream_factory(ok())
    config = make_config(
        [("a", slow.base_url), ("c", spare.base_url)],
        settings={"stateStore": redis_server.url, "probeWaitMs": 0},
    )
    servers = [
        await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink())) for _ in range(2)
    ]
    one, two = (client_factory(server, timeout=30) for server in servers)
    probing = asyncio.ensure_future(ask(one))
    await eventually(lambda: slow.calls == 1, what="the probe at the upstream")

    store = servers[0].app[STATE].state_store
    assert store is not None
    await store.close()  # the replica is gone for the fleet, its probe place still held
    assert await ask(two) == ("c", "2")  # the fleet's probe is out: a walks on at once
    clock.advance(lease_s(config) - 1)
    assert await ask(two) == ("c", "2")
    clock.advance(1)

    assert await ask(two) == ("a", "1")  # the lease ran out: this replica probes
    assert slow.calls == 2
    gate.set()
    await probing


async def test_with_redis_away_each_replica_probes_on_its_own_and_the_fleet_again_once_back(
    sim_factory, fleet, redis_server
) -> None:
    clock = FakeClock()
    sim = await sim_factory(
        SimProviderConfig(name="broken", dialect=Dialect.OPENAI, error_rate=1.0, **LATENCY),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
        clock=clock,
    )
    # No waiting for a probe's answer (a waiter whose answer never came would wait for ever on
    # the fake clock; every answer is a failure here anyway), and c's limit is known.
    known = {"c": {"rateLimits": {"requestsPerMinute": 1000}}}
    servers, clients = await fleet(sim, clock, ("broken", "c"), known, probeWaitMs=0)
    await redis_server.stop()

    assert await split_burst(clients, 20) == {"c": 20}
    assert sim.stats("broken")["requests"] == 2  # one probe from each replica, as alone

    await redis_server.start()
    for server in servers:
        store = server.app[STATE].state_store
        assert store is not None
        await eventually(lambda s=store: s.available, what="shared again")
    clock.advance(5.0)  # both replicas' failure penalties (failurePenaltyMs) are over

    assert await split_burst(clients, 20) == {"c": 20}
    assert sim.stats("broken")["requests"] == 3  # one probe for the fleet again
