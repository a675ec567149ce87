"""Two proxies sharing one Redis (`settings.stateStore`), against the simulator, through the
openai SDK: together they send an entry what its headers (or its manual limit) allow and not
one call more, a cooldown one of them learns spares the other the call, the reservations of
a replica cut off mid-request come back within their lease, and a Redis outage loses no
request."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import openai
import pytest
from structlog.testing import capture_logs

from chain429.app import AppOptions
from chain429.server import RunningServer
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from chain429.state import STATE
from chain429.state_store.names import key_fingerprint, slot_keys
from chain429.state_store.opening import lease_s
from tests.support.clock import FakeClock
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, PROVIDER_KEY, make_config
from tests.support.redis_cluster import ON_A_CLUSTER_TOO, RedisClusterServers, outage
from tests.support.redis_server import RedisServer
from tests.support.upstream import gated, ok
from tests.support.usage_records import MemorySink

MESSAGES = [{"role": "user", "content": "hi"}]


Replicas = Callable[..., Awaitable[list[openai.AsyncOpenAI]]]


@pytest.fixture
def replicas(
    proxy_factory, client_factory, shared_redis: RedisServer | RedisClusterServers
) -> Replicas:
    """Two proxies over the simulator's providers `names` (a chain in that order), sharing
    `shared_redis`; an SDK client of each."""

    async def start(
        sim: Simulator,
        clock: FakeClock,
        names: tuple[str, ...],
        extra: dict[str, dict[str, Any]] | None = None,
    ) -> list[openai.AsyncOpenAI]:
        config = make_config(
            [(name, sim.base_url(name)) for name in names],
            provider_types={"a": "openai"},
            settings={"stateStore": shared_redis.url},
            provider_extra=extra,
        )
        servers: list[RunningServer] = [
            await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink()))
            for _ in range(2)
        ]
        return [client_factory(server, timeout=30) for server in servers]

    return start


async def ask(client: openai.AsyncOpenAI) -> tuple[str, str]:
    """One request; (the provider that served it, the attempts it took)."""
    raw = await client.chat.completions.with_raw_response.create(model="default", messages=MESSAGES)
    assert raw.parse().choices[0].message.content
    return raw.headers["x-429chain-provider"].partition("/")[0], raw.headers["x-429chain-attempts"]


@ON_A_CLUSTER_TOO
async def test_a_burst_split_across_two_replicas_sends_only_what_is_left(
    sim_factory, replicas, shared_redis
) -> None:
    clock = FakeClock()
    sim = await sim_factory(
        SimProviderConfig(name="a", dialect=Dialect.OPENAI, requests_per_window=10, latency_ms=200),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
        clock=clock,
    )
    one, two = await replicas(sim, clock, ("a", "c"))
    assert (await ask(one))[0] == "a"  # the fleet learns `remaining: 9`

    served = await asyncio.gather(*(ask(one if i % 2 else two) for i in range(49)))

    assert Counter(provider for provider, _ in served) == {"a": 9, "c": 40}
    stats = sim.stats("a")
    assert (stats["requests"], stats["rate_limited"]) == (10, 0)
    contents = await shared_redis.contents()
    assert contents
    assert not [key for key, value in contents if PROVIDER_KEY.encode() in key + value]


async def test_a_manual_limit_holds_for_the_whole_fleet(sim_factory, replicas) -> None:
    clock = FakeClock()
    sim = await sim_factory(
        SimProviderConfig(name="a", dialect=Dialect.NONE, latency_ms=100),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
        clock=clock,
    )
    manual = {"a": {"rateLimits": {"requestsPerMinute": 4}}}
    one, two = await replicas(sim, clock, ("a", "c"), manual)

    served = await asyncio.gather(*(ask(one if i % 2 else two) for i in range(12)))

    assert Counter(provider for provider, _ in served) == {"a": 4, "c": 8}
    assert sim.stats("a")["requests"] == 4


@ON_A_CLUSTER_TOO
async def test_a_cooldown_one_replica_learns_spares_the_other_the_call(
    sim_factory, replicas
) -> None:
    clock = FakeClock()
    sim = await sim_factory(
        SimProviderConfig(name="a", dialect=Dialect.NONE, requests_per_window=1),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
        clock=clock,
    )
    one, two = await replicas(sim, clock, ("a", "c"))
    assert (await ask(one))[0] == "a"
    assert await ask(one) == ("c", "2")  # a's 429 (retry-after) cools it down, c serves
    assert sim.stats("a")["rate_limited"] == 1

    served = await ask(two)

    assert served == ("c", "2")  # a skipped, no call
    assert sim.stats("a")["requests"] == 2


async def health_store(http: aiohttp.ClientSession, server: RunningServer) -> str:
    async with http.get(f"{server.url}/health") as answer:
        return str((await answer.json())["stateStore"])


async def shared_gauge(http: aiohttp.ClientSession, server: RunningServer) -> str:
    headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
    async with http.get(f"{server.url}/metrics", headers=headers) as answer:
        text = await answer.text()
    (line,) = [x for x in text.splitlines() if x.startswith("chain429_state_store_shared ")]
    return line.split()[1]


@ON_A_CLUSTER_TOO
async def test_redis_stopped_and_started_mid_load_loses_no_request(
    sim_factory, proxy_factory, client_factory, shared_redis, http
) -> None:
    clock = FakeClock()
    sim = await sim_factory(
        SimProviderConfig(name="a", dialect=Dialect.OPENAI, requests_per_window=1000),
        clock=clock,
    )
    config = make_config(
        [("a", sim.base_url("a"))],
        provider_types={"a": "openai"},
        settings={"stateStore": shared_redis.url},
    )
    servers = [
        await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink())) for _ in range(2)
    ]
    clients = [client_factory(server, timeout=30) for server in servers]
    assert [await health_store(http, s) for s in servers] == ["shared", "shared"]

    async def load(size: int) -> list[tuple[str, str]]:
        return await asyncio.gather(*(ask(clients[i % 2]) for i in range(size)))

    with capture_logs() as logs:
        first = asyncio.ensure_future(load(20))
        keys = slot_keys("a", key_fingerprint("a", PROVIDER_KEY))
        restart = await outage(shared_redis, keys.state)
        served = [*await first, *await load(20)]
        assert [await health_store(http, s) for s in servers] == ["local", "local"]
        assert [await shared_gauge(http, s) for s in servers] == ["0.0", "0.0"]

        await restart()
        for server in servers:
            await eventually(
                lambda s=server: _is(health_store(http, s), "shared"), what="shared again"
            )
        served += await load(20)

    assert Counter(provider for provider, _ in served) == {"a": 60}
    events = [entry["event"] for entry in logs]
    assert events.count("state store unavailable: serving on local state") == 2
    assert events.count("state store reachable again: limits are shared again") == 2
    assert [await shared_gauge(http, s) for s in servers] == ["1.0", "1.0"]


async def _is(value: Awaitable[str], expected: str) -> bool:
    return await value == expected


async def test_a_proxy_on_the_memory_store_says_so_and_has_no_sharing_gauge(
    sim_factory, proxy_factory, http
) -> None:
    sim = await sim_factory(SimProviderConfig(name="a"))
    server = await proxy_factory(make_config([("a", sim.base_url("a"))]))

    assert await health_store(http, server) == "memory"
    headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
    async with http.get(f"{server.url}/metrics", headers=headers) as answer:
        assert "chain429_state_store_shared" not in await answer.text()


async def test_a_replica_cut_off_with_requests_in_flight_gives_them_back_within_the_lease(
    upstream_factory, proxy_factory, client_factory, redis_server
) -> None:
    clock = FakeClock()
    gate = asyncio.Event()
    slow = await upstream_factory(gated(ok(), gate), gated(ok(), gate), ok())
    spare = await upstream_factory(ok())
    config = make_config(
        [("a", slow.base_url), ("c", spare.base_url)],
        settings={"stateStore": redis_server.url},
        provider_extra={"a": {"rateLimits": {"requestsPerMinute": 2}}},
    )
    servers = [
        await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink())) for _ in range(2)
    ]
    one, two = (client_factory(server, timeout=30) for server in servers)
    in_flight = [asyncio.ensure_future(ask(one)) for _ in range(2)]
    await eventually(lambda: slow.calls == 2, what="both requests at the upstream")

    store = servers[0].app[STATE].state_store
    assert store is not None
    await store.close()  # the replica is gone for the fleet, its leases still held in Redis
    assert await ask(two) == ("c", "2")
    clock.advance(lease_s(config) - 1)
    assert await ask(two) == ("c", "2")
    clock.advance(1)

    assert await ask(two) == ("a", "1")
    assert slow.calls == 3
    gate.set()
    await asyncio.gather(*in_flight)


async def test_a_key_exhausted_by_the_other_replica_passes_to_the_providers_next_key(
    upstream_factory, proxy_factory, client_factory, redis_server
) -> None:
    second_key = "sk-second-provider-key-7a6b5c4d"
    multi = await upstream_factory(ok())
    spare = await upstream_factory(ok())
    config = make_config(
        [("a", multi.base_url), ("c", spare.base_url)],
        settings={"stateStore": redis_server.url},
        provider_extra={
            "a": {"apiKeys": [second_key], "rateLimits": {"requestsPerMinute": 1}},
        },
    )
    clock = FakeClock()
    servers = [
        await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink())) for _ in range(2)
    ]
    one, two = (client_factory(server, timeout=30) for server in servers)
    assert await ask(one) == ("a", "1")  # key 0's minute spent, known to the fleet only

    served = await ask(two)

    assert served == ("a", "1")  # its key 0 refused by the fleet: its key 1, not entry c
    keys = [seen["Authorization"] for seen in multi.headers_seen]
    assert keys == [f"Bearer {PROVIDER_KEY}", f"Bearer {second_key}"]
    assert spare.calls == 0


async def ask_big(client: openai.AsyncOpenAI) -> tuple[str, str]:
    """One request of about 500 tokens (its size: a request counts as its size / 4)."""
    messages = [{"role": "user", "content": "x" * 2000}]
    raw = await client.chat.completions.with_raw_response.create(model="default", messages=messages)
    assert raw.parse().choices[0].message.content
    return raw.headers["x-429chain-provider"].partition("/")[0], raw.headers["x-429chain-attempts"]


async def test_tokens_one_replica_gives_back_wake_the_queue_of_the_other_at_once(
    upstream_factory, proxy_factory, client_factory, redis_server
) -> None:
    gate = asyncio.Event()
    upstream = await upstream_factory(gated(ok(), gate), ok())  # answers: 6 tokens used
    config = make_config(
        [("a", upstream.base_url)],
        settings={
            "stateStore": redis_server.url,
            "queueMode": True,
            "queueMaxWaitMs": 300_000,
        },
        provider_extra={"a": {"rateLimits": {"tokensPerMinute": 1000}}},
    )
    clock = FakeClock()  # never moved: the minute's reset and the queue's deadline never come
    servers = [
        await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink())) for _ in range(2)
    ]
    one, two = (client_factory(server, timeout=30) for server in servers)
    first = asyncio.ensure_future(ask_big(one))
    await eventually(lambda: upstream.calls == 1, what="one's request at the upstream")
    second = asyncio.ensure_future(ask_big(two))  # ~500 of the 1,000 tokens held by one
    queues = servers[1].app[STATE].waterfall.queues
    assert queues is not None
    await eventually(lambda: queues.depths() == {"default": 1}, what="two's request queued")

    gate.set()  # one's request ends, its estimate given back but for the 6 tokens it used
    assert await first == ("a", "1")

    served = await eventually(lambda: second.done() and second.result(), what="two served")
    assert served == ("a", "1")
    assert upstream.calls == 2
