"""Concurrency limits (`rateLimits.concurrentRequests`, of a provider or of a chain entry) held
by the whole fleet sharing one Redis (`settings.stateStore`): requests in flight on one replica
count on the other, so together they never have more out than the limit allows; a dead
replica's places come back when its leases run out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import openai
import pytest

from chain429.app import AppOptions
from chain429.config.schema import ProviderConfig
from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.manual import ManualLimits
from chain429.limits.setup import TrackerSetup
from chain429.limits.state import Reservation
from chain429.limits.tracker import PAYMENT_COOLDOWN_S, Demand, Skip, SkipReason
from chain429.outcome import Outcome
from chain429.state import STATE
from chain429.state_store.names import concurrency_keys, key_fingerprint, slot_keys
from chain429.state_store.redis_store import RedisStore
from chain429.state_store.shared_tracker import SharedTracker
from tests.support.clock import FakeClock
from tests.support.configs import build_config, entries, key_provider
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.redis_server import RedisServer
from tests.support.upstream import gated, ok
from tests.support.usage_records import MemorySink

MESSAGES = [{"role": "user", "content": "hi"}]
POLICY = CooldownPolicy(
    default_s=60.0,
    failure_penalty_s=5.0,
    payment_s=PAYMENT_COOLDOWN_S,
    mid_stream_threshold=3,
    mid_stream_s=30.0,
    mid_stream_max_s=100.0,
)
LEASE_S = 40.0
KEY = "sk-one-key-0001"
#: A minute's limit none of the tests reaches: it makes the entry's limits known, so no probe
#: gate (`limits.probe`) holds its requests back while its first answer is out.
KNOWN_RPM = 1000


async def ask(client: openai.AsyncOpenAI) -> tuple[str, str]:
    """One request; (the entry that served it, the attempts it took)."""
    raw = await client.chat.completions.with_raw_response.create(model="default", messages=MESSAGES)
    assert raw.parse().choices[0].message.content
    return raw.headers["x-429chain-provider"], raw.headers["x-429chain-attempts"]


async def test_a_providers_concurrency_limit_holds_across_replicas(
    upstream_factory, proxy_factory, client_factory, redis_server
) -> None:
    gate = asyncio.Event()
    slow = await upstream_factory(gated(ok(), gate), gated(ok(), gate), ok())
    spare = await upstream_factory(ok())
    limited = {
        "apiKeys": ["sk-first-provider-key-1a2b3c4d", "sk-second-provider-key-7a6b5c4d"],
        "rateLimits": {"concurrentRequests": 2, "requestsPerMinute": KNOWN_RPM},
    }
    config = make_config(
        [("a", slow.base_url), ("c", spare.base_url)],
        settings={"stateStore": redis_server.url},
        provider_extra={"a": limited},
    )
    clock = FakeClock()
    servers = [
        await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink())) for _ in range(2)
    ]
    one, two = (client_factory(server, timeout=30) for server in servers)
    held = [asyncio.ensure_future(ask(one)) for _ in range(2)]
    await eventually(lambda: slow.calls == 2, what="both requests at the upstream")

    assert await ask(two) == ("c/c-model", "2")  # a skipped without a call, on either key
    assert slow.calls == 2

    gate.set()
    assert await asyncio.gather(*held) == [("a/a-model", "1")] * 2
    assert await ask(two) == ("a/a-model", "1")
    assert slow.calls == 3


async def test_an_entrys_concurrency_limit_holds_across_replicas(
    upstream_factory, proxy_factory, client_factory, redis_server
) -> None:
    gate = asyncio.Event()
    upstream = await upstream_factory(gated(ok(), gate), ok())
    spare = await upstream_factory(ok())
    chain = entries(("a", "small"), ("a", "large"), ("c", "c-model"))
    chain[0]["rateLimits"] = {"concurrentRequests": 1, "requestsPerMinute": KNOWN_RPM}
    providers = [
        {"id": "a", "type": "generic-openai", "apiKey": "sk-a-1", "baseUrl": upstream.base_url},
        {"id": "c", "type": "generic-openai", "apiKey": "sk-c-1", "baseUrl": spare.base_url},
    ]
    config = build_config(
        providers,
        {"default": chain},
        apiKeys=[CLIENT_KEY],
        requestTimeoutMs=5000,
        recordUsage=False,
        stateStore=redis_server.url,
    )
    clock = FakeClock()
    servers = [
        await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink())) for _ in range(2)
    ]
    one, two = (client_factory(server, timeout=30) for server in servers)
    held = asyncio.ensure_future(ask(one))
    await eventually(lambda: upstream.calls == 1, what="one's request at the upstream")

    served = await ask(two)

    assert served == ("a/large", "2")  # a/small skipped; the provider's other model serves
    assert [body["model"] for body in upstream.received] == ["small", "large"]
    gate.set()
    assert await held == ("a/small", "1")
    assert spare.calls == 0


async def test_a_place_freed_on_one_replica_wakes_the_queue_of_the_other_at_once(
    upstream_factory, proxy_factory, client_factory, redis_server
) -> None:
    gate = asyncio.Event()
    upstream = await upstream_factory(gated(ok(), gate), ok())
    config = make_config(
        [("a", upstream.base_url)],
        settings={"stateStore": redis_server.url, "queueMode": True, "queueMaxWaitMs": 300_000},
        provider_extra={
            "a": {"rateLimits": {"concurrentRequests": 1, "requestsPerMinute": KNOWN_RPM}}
        },
    )
    clock = FakeClock()  # never moved: the queue's deadline never comes
    servers = [
        await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink())) for _ in range(2)
    ]
    one, two = (client_factory(server, timeout=30) for server in servers)
    first = asyncio.ensure_future(ask(one))
    await eventually(lambda: upstream.calls == 1, what="one's request at the upstream")
    second = asyncio.ensure_future(ask(two))
    queues = servers[1].app[STATE].waterfall.queues
    assert queues is not None
    await eventually(lambda: queues.depths() == {"default": 1}, what="two's request queued")
    assert upstream.calls == 1

    gate.set()  # one's request ends: its place is free for the fleet
    assert await first == ("a/a-model", "1")

    served = await eventually(lambda: second.done() and second.result(), what="two served")
    assert served == ("a/a-model", "1")
    assert upstream.calls == 2


Replica = Callable[..., Awaitable[SharedTracker]]


@pytest.fixture
async def replica(redis_server: RedisServer) -> AsyncIterator[Replica]:
    """Makes trackers that share `redis_server` on `clock`, each over its own connection,
    with the manual limits of `providers`."""
    stores: list[RedisStore] = []

    async def make(clock: FakeClock, *providers: ProviderConfig) -> SharedTracker:
        store = RedisStore(redis_server.url, retry_s=0.01)
        await store.start()
        stores.append(store)
        limits = ManualLimits({p.id: p.rate_limits for p in providers if p.rate_limits})
        return SharedTracker.sharing(TrackerSetup(POLICY, limits=limits), clock, store, LEASE_S)

    yield make
    for store in stores:
        await store.close()


async def admit(tracker: SharedTracker, provider: ProviderConfig) -> Reservation | Skip:
    local = tracker.admit(provider, "m")
    if isinstance(local, Skip):
        return local
    return await tracker.admit_shared(local, Demand())


async def test_a_dead_replicas_places_come_back_when_its_leases_run_out(replica) -> None:
    clock = FakeClock()
    provider = key_provider("sk-one-key-0001", "sk-two-key-0002", concurrent=2)
    one, two = await replica(clock, provider), await replica(clock, provider)
    held = [await admit(one, provider) for _ in range(2)]
    assert [isinstance(h, Reservation) for h in held] == [True, True]
    await one.store.close()  # the replica dies with both requests in flight

    refused = await admit(two, provider)
    assert isinstance(refused, Skip) and refused.reason is SkipReason.CONCURRENCY_FULL
    assert refused.detail == "concurrent request limit reached across replicas"
    clock.advance(LEASE_S - 1)
    assert isinstance(await admit(two, provider), Skip)
    clock.advance(1)
    assert isinstance(await admit(two, provider), Reservation)


async def test_a_running_request_keeps_its_place_past_one_lease(replica) -> None:
    clock = FakeClock()
    provider = key_provider("sk-one-key-0001", concurrent=1)
    one, two = await replica(clock, provider), await replica(clock, provider)
    assert isinstance(await admit(one, provider), Reservation)  # a long stream

    for _ in range(6):  # two leases' length, renewed every third of one
        clock.advance(LEASE_S / 3)
        await one.store.flushed()
        assert isinstance(await admit(two, provider), Skip)


async def test_a_place_released_or_withdrawn_is_free_for_the_other_replica(replica) -> None:
    clock = FakeClock()
    provider = key_provider("sk-one-key-0001", concurrent=1)
    one, two = await replica(clock, provider), await replica(clock, provider)
    first = await admit(one, provider)
    assert isinstance(first, Reservation)
    assert isinstance(await admit(two, provider), Skip)

    one.release(first)
    await one.store.flushed()
    second = await admit(two, provider)
    assert isinstance(second, Reservation)
    assert isinstance(await admit(one, provider), Skip)

    two.withdraw(second)
    await two.store.flushed()
    assert isinstance(await admit(one, provider), Reservation)


async def test_a_provider_without_a_concurrency_limit_writes_no_place(
    replica, redis_server
) -> None:
    clock = FakeClock()
    provider = key_provider("sk-one-key-0001")
    one = await replica(clock, provider)
    reservation = await admit(one, provider)
    assert isinstance(reservation, Reservation)
    await one.store.flushed()

    assert not [key for key, _ in await redis_server.contents() if b":conc}" in key]


async def test_what_one_half_of_an_admission_took_is_given_back_when_the_other_refuses(
    replica, redis_server
) -> None:
    clock = FakeClock()
    provider = key_provider(KEY, concurrent=1)
    one, two = await replica(clock, provider), await replica(clock, provider)
    first = await admit(one, provider)
    assert isinstance(first, Reservation)

    full = await admit(two, provider)  # the key admits, the provider has no place left
    await two.store.flushed()
    assert isinstance(full, Skip) and full.reason is SkipReason.CONCURRENCY_FULL
    assert await leases(redis_server) == (1, 1)  # two's lease on the key given back

    one.release(first)
    one.record(first, Outcome.RATE_LIMITED, clock.now() + 5, "HTTP 429")
    await one.store.flushed()
    cooling = await admit(two, provider)  # a place is free, the key cools down
    await two.store.flushed()
    assert isinstance(cooling, Skip) and cooling.reason is SkipReason.COOLING_DOWN
    assert await leases(redis_server) == (0, 0)  # two's place given back


async def test_with_redis_unavailable_each_replica_counts_its_own(replica, redis_server) -> None:
    clock = FakeClock()
    provider = key_provider(KEY, concurrent=1)
    one, two = await replica(clock, provider), await replica(clock, provider)
    await redis_server.stop()

    alone = [await admit(tracker, provider) for tracker in (one, two, one)]

    assert [isinstance(a, Reservation) for a in alone] == [True, True, False]
    assert isinstance(alone[2], Skip) and alone[2].detail == "concurrent request limit reached"
    for tracker, reservation in zip((one, two), alone, strict=False):
        assert isinstance(reservation, Reservation)
        tracker.release(reservation)
    await redis_server.start()
    await eventually(lambda: one.store.available and two.store.available, what="Redis back")
    assert isinstance(await admit(one, provider), Reservation)
    assert isinstance(await admit(two, provider), Skip)


async def leases(redis_server: RedisServer) -> tuple[int, int]:
    """How many leases the provider key `KEY` of `p` holds, and how many places `p`."""
    client = redis_server.client()
    try:
        key = await client.zcard(slot_keys("p", key_fingerprint("p", KEY)).leases)
        places = await client.zcard(concurrency_keys("p").leases)
    finally:
        await client.aclose()
    return key, places
