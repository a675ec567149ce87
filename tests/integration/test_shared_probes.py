"""Probing across two trackers sharing one real Redis, as two replicas do: the fleet admits
`probeConcurrency` probes at an entry nobody knows, the answer wakes a request waiting on the
other replica with no clock moving (it is told, not polled), a failure one replica sees puts
the other back to probing, a slow start counts the whole fleet's requests, and with Redis away
a replica forgets what only the fleet knew."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from chain429.limits.probe import ProbeGate
from chain429.limits.setup import TrackerSetup
from chain429.limits.state import Reservation
from chain429.limits.tracker import Demand, Skip, SkipReason
from chain429.outcome import Outcome
from chain429.router.probe_wait import ProbeWaits
from chain429.state_store.redis_store import RedisStore
from chain429.state_store.shared_tracker import TOLD_RUN_MAX, SharedTracker
from tests.integration.test_shared_tracker import (
    KEY,
    LEASE_S,
    POLICY,
    PROVIDER,
    admit,
    requests_left,
)
from tests.support.clock import FakeClock
from tests.support.polling import eventually
from tests.support.redis_server import RedisServer

Replica = Callable[[], Awaitable[SharedTracker]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def replica(redis_server: RedisServer, clock: FakeClock) -> AsyncIterator[Replica]:
    """Makes trackers that probe (one probe at a time) and share `redis_server`."""
    stores: list[RedisStore] = []

    async def make() -> SharedTracker:
        store = RedisStore(redis_server.url, retry_s=0.01)
        await store.start()
        stores.append(store)
        setup = TrackerSetup(POLICY, keys={"p": (KEY,)}, probes=ProbeGate(1))
        tracker = SharedTracker.sharing(setup, clock, store, LEASE_S)
        await eventually(lambda: tracker.hears_answers, what="following the answers told")
        return tracker

    yield make
    for store in stores:
        await store.close()


async def answered(
    tracker: SharedTracker, reservation: Reservation, outcome: Outcome, remaining: int | None
) -> None:
    """`reservation`'s answer: `outcome`, with headers saying `remaining` (None: no headers)."""
    clock = tracker._clock
    if remaining is not None:
        tracker.observe(reservation, requests_left(clock, remaining))  # type: ignore[arg-type]
    tracker.release(reservation)
    tracker.record(reservation, outcome)
    await tracker.store.flushed()


def probing(admitted: Reservation | Skip) -> bool:
    return isinstance(admitted, Skip) and admitted.reason is SkipReason.PROBING


async def test_the_fleet_probes_once_and_the_answer_wakes_the_other_replicas_waiter(
    replica, clock
) -> None:
    one, two = await replica(), await replica()
    probe = await admit(one)
    assert isinstance(probe, Reservation)
    refused = await admit(two)
    assert probing(refused)
    assert isinstance(refused, Skip)
    assert refused.detail.endswith("(the fleet's probes are out)")
    assert probing(two.admit(PROVIDER, "m"))  # held back here: no second round trip
    waits = ProbeWaits(two, clock)
    waiting = asyncio.ensure_future(
        waits.wait(refused, PROVIDER, "m", Demand(), 2.0, lambda _: None)
    )
    await eventually(lambda: waits.waiting("p", "m") == 1, what="the request waits")

    await answered(one, probe, Outcome.SERVED, remaining=5)  # the clock never moves

    admitted = await asyncio.wait_for(waiting, 10)
    assert isinstance(admitted, Reservation)
    state = two.model_state("p", 0, "m")
    assert state is not None and state.known_elsewhere
    assert isinstance(await admit(two), Reservation)  # known to the fleet: no probing here


async def test_a_request_held_for_an_answer_it_cannot_hear_asks_the_shared_state_again(
    replica, clock, redis_server
) -> None:
    # The subscription ends and cannot be made again while the store still reaches Redis (of
    # a cluster: the channel's node stopped, the provider's keys elsewhere): the answer told
    # meanwhile is never heard, and the clock never moves to end the hold.
    one, two = await replica(), await replica()
    probe = await admit(one)
    assert isinstance(probe, Reservation)
    refused = await admit(two)
    assert isinstance(refused, Skip) and probing(refused)
    waits = ProbeWaits(two, clock)
    waiting = asyncio.ensure_future(
        waits.wait(refused, PROVIDER, "m", Demand(), 2.0, lambda _: None)
    )
    await eventually(lambda: waits.waiting("p", "m") == 1, what="the request waits")
    async with aioredis.Redis.from_url(redis_server.url) as admin:
        await admin.acl_setuser("default", enabled=True, commands=["-subscribe"])
        await admin.client_kill_filter(_type="pubsub")
    await eventually(lambda: not two.hears_answers, what="the subscription lost")

    await answered(one, probe, Outcome.SERVED, remaining=5)  # told, not heard by `two`

    admitted = await asyncio.wait_for(waiting, 10)
    assert isinstance(admitted, Reservation)
    assert not two.hears_answers


async def test_a_failure_one_replica_sees_puts_the_other_back_to_probing(replica, clock) -> None:
    one, two = await replica(), await replica()
    served = await admit(one)
    assert isinstance(served, Reservation)
    assert probing(await admit(two))  # two has used the entry: it follows what it is told
    await answered(one, served, Outcome.SERVED, remaining=50)
    failed = await admit(one)
    assert isinstance(failed, Reservation)
    await eventually(
        lambda: (s := two.model_state("p", 0, "m")) is not None and s.known_elsewhere,
        what="the answer told",
    )

    await answered(one, failed, Outcome.SERVER_ERROR, remaining=None)
    clock.advance(POLICY.failure_penalty_s)  # the penalty is over: probes again, fleet-wide

    assert isinstance(await admit(two), Reservation)
    assert probing(await admit(one))


async def test_a_slow_start_counts_the_requests_of_the_whole_fleet(replica, clock) -> None:
    one, two = await replica(), await replica()
    probe = await admit(one)
    assert isinstance(probe, Reservation)
    assert probing(await admit(two))
    await answered(one, probe, Outcome.SERVED, remaining=None)  # served, no limit stated
    await eventually(
        lambda: (s := two.model_state("p", 0, "m")) is not None and s.served_run == 1,
        what="the answer told",
    )

    # one served in a row: two in flight for the whole fleet
    assert isinstance(await admit(one), Reservation)
    assert isinstance(await admit(two), Reservation)
    refused = await admit(two)
    assert probing(refused)
    local = two.admit(PROVIDER, "m", Demand(waited=True))  # it waited its whole probeWaitMs
    assert isinstance(local, Reservation)
    assert isinstance(await two.admit_shared(local, Demand(waited=True)), Reservation)


async def test_with_redis_away_a_replica_forgets_what_only_the_fleet_knew(
    replica, clock, redis_server
) -> None:
    one, two = await replica(), await replica()
    probe = await admit(one)
    assert isinstance(probe, Reservation)
    assert probing(await admit(two))
    await answered(one, probe, Outcome.SERVED, remaining=50)
    await eventually(
        lambda: (s := two.model_state("p", 0, "m")) is not None and s.known_elsewhere,
        what="the answer told",
    )

    await redis_server.stop()
    alone = await admit(two)  # Redis is gone: the local state, which knows no limit, probes
    assert isinstance(alone, Reservation)

    state = two.model_state("p", 0, "m")
    assert state is not None and not state.known_elsewhere
    # What the fleet's answer said stays (served once): a slow start, of this replica's own
    assert isinstance(two.admit(PROVIDER, "m"), Reservation)
    assert probing(two.admit(PROVIDER, "m"))


async def learn_three(tracker: SharedTracker, clock: FakeClock) -> None:
    """Three served with no headers, then a 429 naming a retry in 10 s: three per ~10 s."""
    for _ in range(3):
        served = await admit(tracker)
        assert isinstance(served, Reservation), served
        await answered(tracker, served, Outcome.SERVED, remaining=None)
    refused = await admit(tracker)
    assert isinstance(refused, Reservation), refused
    tracker.release(refused)
    tracker.record(refused, Outcome.RATE_LIMITED, clock.now() + 10)
    await tracker.store.flushed()


async def test_a_learned_limit_bounds_the_fleet_until_the_learner_lets_it_go(
    replica, clock
) -> None:
    one, two = await replica(), await replica()
    await learn_three(one, clock)
    state = one.model_state("p", 0, "m")
    assert state is not None and state.learning.limit == 3
    clock.advance(10.5)  # the cooldown is over and the learned window has turned over

    for _ in range(3):
        served = await admit(two)
        assert isinstance(served, Reservation), served
        await answered(two, served, Outcome.SERVED, remaining=None)
    refused = await admit(two)  # two never saw a 429: the limit one learned holds it
    assert isinstance(refused, Skip) and refused.reason is SkipReason.REQUESTS_EXHAUSTED

    clock.advance(10.5)
    below = await admit(one)  # the provider refuses below the learned limit: one lets it go
    assert isinstance(below, Reservation)
    one.release(below)
    one.record(below, Outcome.RATE_LIMITED, clock.now() + 1)
    await one.store.flushed()
    assert one.model_state("p", 0, "m").learning.limit is None  # type: ignore[union-attr]
    clock.advance(1.5)

    for _ in range(4):  # no learned window bounds two any more (one probe at a time)
        served = await admit(two)
        assert isinstance(served, Reservation), served
        await answered(two, served, Outcome.SERVED, remaining=None)


async def test_an_entry_that_serves_on_and_on_without_limits_stops_being_told(
    replica, clock, redis_server
) -> None:
    one = await replica()
    for _ in range(TOLD_RUN_MAX + 20):  # a header-less provider with no limit, one at a time
        served = await admit(one)
        assert isinstance(served, Reservation), served
        await answered(one, served, Outcome.SERVED, remaining=None)

    client = redis_server.client()
    try:
        (state,) = [key async for key in client.scan_iter(match="*:state")]
        run = int(await client.hget(state, "M|m|run"))
    finally:
        await client.aclose()
    assert run == TOLD_RUN_MAX  # told up to the cap, then no more
