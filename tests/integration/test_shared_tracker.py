"""Two trackers sharing one real Redis, as two replicas do (`settings.stateStore`): admission
is exact across both, a cooldown one learns the other honours, a replica that dies gives its
reservations back when their leases run out, and no provider key reaches Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from chain429.config.schema import ProviderConfig
from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Window
from chain429.limits.setup import TrackerSetup
from chain429.limits.state import Reservation
from chain429.limits.tracker import PAYMENT_COOLDOWN_S, Demand, Skip, SkipReason
from chain429.outcome import Outcome
from chain429.router.plan import tracker_setup
from chain429.state_store.names import WAKE_CHANNEL, key_fingerprint
from chain429.state_store.opening import lease_s
from chain429.state_store.shared_tracker import SharedTracker, lease_length_s
from chain429.state_store.wakes import FleetWakes
from tests.support.clock import FakeClock
from tests.support.configs import key_provider
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.redis_server import RedisServer
from tests.support.shared_trackers import Replica, tracker_replicas

POLICY = CooldownPolicy(
    default_s=60.0,
    failure_penalty_s=5.0,
    payment_s=PAYMENT_COOLDOWN_S,
    mid_stream_threshold=3,
    mid_stream_s=30.0,
    mid_stream_max_s=100.0,
)
KEY = "sk-shared-secret-key-9f8e7d6c"
PROVIDER = key_provider(KEY)
LEASE_S = 40.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def replica(redis_server: RedisServer, clock: FakeClock) -> AsyncIterator[Replica]:
    """Makes trackers that share `redis_server`, each over its own store."""
    async with tracker_replicas(redis_server.url, clock, POLICY, LEASE_S) as make:
        yield make


async def admit(
    tracker: SharedTracker, model: str = "m", *, provider: ProviderConfig = PROVIDER
) -> Reservation | Skip:
    local = tracker.admit(provider, model)
    if isinstance(local, Skip):
        return local
    return await tracker.admit_shared(local, Demand())


def requests_left(
    clock: FakeClock, remaining: int, limit: int = 10, window: Window = Window.MINUTE
) -> LimitReport:
    reset = clock.now() + (window.seconds or 60)
    return LimitReport((Metric(MetricKind.REQUESTS, window, limit, remaining, reset),))


async def served(
    tracker: SharedTracker,
    clock: FakeClock,
    remaining: int,
    window: Window = Window.MINUTE,
    *,
    provider: ProviderConfig = PROVIDER,
) -> None:
    """One request admitted, answered with `remaining` left (of a minute, unless `window`
    says otherwise), and released."""
    reservation = await admit(tracker, provider=provider)
    assert isinstance(reservation, Reservation), reservation
    tracker.observe(reservation, requests_left(clock, remaining, window=window))
    tracker.release(reservation)
    tracker.record(reservation, Outcome.SERVED)
    await tracker.store.flushed()


async def test_two_replicas_admit_together_only_what_is_left(replica, clock) -> None:
    one, two = await replica(), await replica()
    await served(one, clock, remaining=3)

    granted = [await admit(tracker) for tracker in (one, two, two, one)]

    assert [isinstance(g, Reservation) for g in granted] == [True, True, True, False]
    refused = granted[-1]
    assert isinstance(refused, Skip) and refused.reason is SkipReason.REQUESTS_EXHAUSTED
    assert refused.until == clock.now() + 60
    assert refused.detail == "requests per minute exhausted across replicas"


async def test_a_reservation_released_frees_its_place_for_the_other_replica(replica, clock) -> None:
    one, two = await replica(), await replica()
    await served(one, clock, remaining=1)
    held = await admit(one)
    assert isinstance(held, Reservation)
    assert isinstance(await admit(two), Skip)

    one.withdraw(held)  # never sent: given back without spending what is left
    await one.store.flushed()

    assert isinstance(await admit(two), Reservation)


async def test_what_a_header_reports_on_one_replica_bounds_the_other(replica, clock) -> None:
    one, two = await replica(), await replica()
    first = await admit(one)
    second = await admit(two)
    assert isinstance(first, Reservation) and isinstance(second, Reservation)

    # the provider counted both: one's answer says nothing is left
    one.observe(first, requests_left(clock, remaining=0))
    one.release(first)
    await one.store.flushed()

    refused = await admit(two)
    assert isinstance(refused, Skip) and refused.reason is SkipReason.REQUESTS_EXHAUSTED


async def test_a_cooldown_learned_by_one_replica_skips_the_entry_on_the_other(
    replica, clock
) -> None:
    one, two = await replica(), await replica()
    reservation = await admit(one)
    assert isinstance(reservation, Reservation)
    one.release(reservation)
    one.record(reservation, Outcome.RATE_LIMITED, clock.now() + 30, "HTTP 429: slow down")
    await one.store.flushed()

    skip = await admit(two)

    assert isinstance(skip, Skip)
    assert (skip.reason, skip.until, skip.detail) == (
        SkipReason.COOLING_DOWN,
        clock.now() + 30,
        "HTTP 429: slow down",
    )
    assert two.model_state("p", 0, "m") is not None  # its local state saw no 429
    clock.advance(30)
    assert isinstance(await admit(two), Reservation)


async def test_a_failure_penalty_and_an_account_cooldown_are_shared(replica, clock) -> None:
    one, two = await replica(), await replica()
    failed = await admit(one, "a")
    limited = await admit(one, "b")
    assert isinstance(failed, Reservation) and isinstance(limited, Reservation)
    for reservation in (failed, limited):
        one.release(reservation)
    one.record(failed, Outcome.SERVER_ERROR, None, "HTTP 503")
    one.record(limited, Outcome.RATE_LIMITED, clock.now() + 90, "account", Scope.ACCOUNT)
    await one.store.flushed()

    penalised, cooling = await admit(two, "a"), await admit(two, "c")

    assert isinstance(penalised, Skip) and penalised.reason is SkipReason.COOLING_DOWN
    assert penalised.until == clock.now() + 90  # the account's cooldown outlasts the penalty
    assert isinstance(cooling, Skip) and cooling.until == clock.now() + 90


async def test_a_dead_replicas_reservations_come_back_when_their_leases_run_out(
    replica, clock
) -> None:
    one, two = await replica(), await replica()
    await served(one, clock, remaining=2)
    for _ in range(2):
        assert isinstance(await admit(one), Reservation)
    await one.store.close()  # the replica dies with both requests in flight

    assert isinstance(await admit(two), Skip)
    clock.advance(LEASE_S - 1)
    assert isinstance(await admit(two), Skip)
    clock.advance(1)
    assert isinstance(await admit(two), Reservation)


async def test_no_provider_key_is_written_to_redis(replica, clock, redis_server) -> None:
    one, two = await replica(), await replica()
    await served(one, clock, remaining=5)
    reservation = await admit(two)
    assert isinstance(reservation, Reservation)
    two.release(reservation)
    two.record(reservation, Outcome.RATE_LIMITED, clock.now() + 5, "HTTP 429")
    await two.store.flushed()

    contents = await redis_server.contents()

    assert contents
    for key, value in contents:
        assert KEY.encode() not in key + value
        assert KEY[-8:].encode() not in key + value
        assert key.startswith(f"c429:{{p:{key_fingerprint('p', KEY)}}}:".encode())


async def test_an_unreachable_redis_leaves_each_replica_on_its_own_until_it_returns(
    replica, clock, redis_server
) -> None:
    one, two = await replica(), await replica()
    await served(one, clock, remaining=1)

    await redis_server.stop()
    alone = await admit(two)  # Redis is gone: the local state, which knows no limit, admits
    assert isinstance(alone, Reservation)
    assert not two.store.available
    two.release(alone)

    await redis_server.start()
    await eventually(
        lambda: one.store.available and two.store.available, what="both stores are back"
    )  # each reconnects on its own: the report below must reach Redis
    await served(one, clock, remaining=0)
    assert isinstance(await admit(two), Skip)


async def test_a_running_request_keeps_its_lease_past_its_length(replica, clock) -> None:
    one, two = await replica(), await replica()
    await served(one, clock, remaining=1, window=Window.DAY)
    assert isinstance(await admit(one), Reservation)  # a long stream

    for _ in range(6):  # two leases' length, renewed every third of one
        clock.advance(LEASE_S / 3)
        await one.store.flushed()
        assert isinstance(await admit(two), Skip)

    await one.store.close()  # the replica dies: no more renewals
    clock.advance(LEASE_S)
    assert isinstance(await admit(two), Reservation)


async def test_replicas_that_list_a_key_in_other_places_share_its_state(replica, clock) -> None:
    one, two = await replica(), await replica()
    other = key_provider("sk-another-key-0000", KEY)  # KEY second on this replica
    await served(one, clock, remaining=0)

    local = two.admit(other, "m")
    assert isinstance(local, Reservation) and local.key_index == 0
    assert isinstance(await two.admit_shared(local, Demand()), Reservation)
    local = two.admit(key_provider(KEY), "m")
    assert isinstance(local, Reservation)
    refused = await two.admit_shared(local, Demand())
    assert isinstance(refused, Skip) and refused.reason is SkipReason.REQUESTS_EXHAUSTED


async def test_a_request_that_leaves_while_admitted_leaves_nothing_held(replica, clock) -> None:
    one, two = await replica(), await replica()
    await served(one, clock, remaining=1)
    local = one.admit(PROVIDER, "m")
    assert isinstance(local, Reservation)
    asking = asyncio.ensure_future(one.admit_shared(local, Demand()))
    await asyncio.sleep(0)  # the admission is on its way to Redis

    asking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asking
    await one.store.flushed()

    state = one.model_state("p", 0, "m")
    assert state is not None and state.in_flight == 0 and local.released
    assert isinstance(await admit(two), Reservation)


async def test_tokens_in_flight_on_one_replica_count_on_the_other(replica, clock) -> None:
    one, two = await replica(), await replica()
    first = await admit(one)
    assert isinstance(first, Reservation)
    tokens = Metric(MetricKind.TOKENS, Window.MINUTE, 10_000, 1_000, clock.now() + 60)
    one.observe(first, LimitReport((tokens,)))
    one.release(first, used_tokens=0)
    await one.store.flushed()

    big = one.admit(PROVIDER, "m", Demand(tokens=600))
    assert isinstance(big, Reservation)
    assert isinstance(await one.admit_shared(big, Demand(tokens=600)), Reservation)
    other = two.admit(PROVIDER, "m", Demand(tokens=600))
    assert isinstance(other, Reservation)  # its local state knows no token window

    refused = await two.admit_shared(other, Demand(tokens=600))

    assert isinstance(refused, Skip) and refused.reason is SkipReason.TOKENS_EXHAUSTED
    assert refused.detail == "tokens per minute exhausted across replicas"
    one.release(big, used_tokens=300)
    await one.store.flushed()
    again = two.admit(PROVIDER, "m", Demand(tokens=600))
    assert isinstance(again, Reservation)
    assert isinstance(await two.admit_shared(again, Demand(tokens=600)), Reservation)


async def test_a_forced_probe_holds_its_place_across_replicas(replica, clock) -> None:
    one, two = await replica(), await replica()
    await served(one, clock, remaining=1)

    forced = one.force(PROVIDER, "m")  # the management API's probe, whatever admission says
    await one.store.flushed()
    assert isinstance(await admit(two), Skip)

    one.release(forced)
    await one.store.flushed()
    refused = await admit(two)  # its answer never came: the request it sent is counted
    assert isinstance(refused, Skip) and refused.reason is SkipReason.REQUESTS_EXHAUSTED


async def test_running_leases_take_a_shorter_length_when_the_timeouts_change(
    replica, clock
) -> None:
    one, two = await replica(), await replica()
    await served(one, clock, remaining=1)
    assert isinstance(await admit(one), Reservation)  # taken for LEASE_S

    one.reconfigure(TrackerSetup(POLICY, attempt_s=5.0))  # requestTimeoutMs: 5000
    assert one.lease_s == lease_length_s(5.0)
    await one.store.flushed()
    await one.store.close()  # the replica dies with the request in flight

    clock.advance(one.lease_s - 1)
    assert isinstance(await admit(two), Skip)
    clock.advance(1)
    assert isinstance(await admit(two), Reservation)


async def test_leases_taken_after_the_timeouts_grow_last_the_new_length(replica, clock) -> None:
    one, two = await replica(), await replica()
    await served(one, clock, remaining=1)
    one.reconfigure(TrackerSetup(POLICY, attempt_s=300.0))  # a provider's timeout: 300000
    assert isinstance(await admit(one), Reservation)
    await one.store.close()  # the replica dies with the request in flight

    clock.advance(LEASE_S)
    assert isinstance(await admit(two), Skip)
    clock.advance(lease_length_s(300.0) - LEASE_S)
    assert isinstance(await admit(two), Reservation)


def test_the_longest_timeout_of_a_config_is_what_leases_outlast() -> None:
    config = make_config(
        [("a", "http://127.0.0.1:9/v1"), ("b", "http://127.0.0.1:9/v1")],
        settings={"requestTimeoutMs": 20_000},
        provider_extra={"b": {"timeout": 45_000}},
    )

    assert tracker_setup(config).attempt_s == 45.0
    assert lease_s(config) == lease_length_s(45.0)


Told = list[tuple[str, str, bool]]


@pytest.fixture
async def told(redis_server: RedisServer) -> AsyncIterator[Told]:
    """What the replicas tell each other on the wake channel, as a replica reads it."""
    messages: Told = []
    wakes = FleetWakes(redis_server.url, lambda *message: messages.append(message))
    await wakes.start()
    yield messages
    await wakes.close()


async def everything_told(tracker: SharedTracker, redis_server: RedisServer, told: Told) -> Told:
    """Every message told after `tracker`'s calls so far have run (a marker of ours ends them)."""
    await tracker.store.flushed()
    client = redis_server.client()
    try:
        await client.publish(WAKE_CHANNEL, "end:0 end 0")
    finally:
        await client.aclose()
    await eventually(lambda: ("end", "end", False) in told, what="the end marker")
    messages = told[: told.index(("end", "end", False))]
    told.clear()
    return messages


async def tokens_held_by_one(one: SharedTracker, clock: FakeClock) -> Reservation:
    """One's reservation of 600 of the 1,000 tokens the minute has left."""
    first = await admit(one)
    assert isinstance(first, Reservation)
    tokens = Metric(MetricKind.TOKENS, Window.MINUTE, 10_000, 1_000, clock.now() + 60)
    one.observe(first, LimitReport((tokens,)))
    one.release(first, used_tokens=0)
    big = one.admit(PROVIDER, "m", Demand(tokens=600))
    assert isinstance(big, Reservation)
    assert isinstance(await one.admit_shared(big, Demand(tokens=600)), Reservation)
    return big


async def refused_tokens(two: SharedTracker) -> Skip:
    other = two.admit(PROVIDER, "m", Demand(tokens=600))
    assert isinstance(other, Reservation)
    refused = await two.admit_shared(other, Demand(tokens=600))
    assert isinstance(refused, Skip) and refused.reason is SkipReason.TOKENS_EXHAUSTED
    return refused


async def test_a_release_where_a_queued_request_was_refused_is_told_once(
    replica, clock, redis_server, told
) -> None:
    one, two = await replica(), await replica()
    two.queue_mode = True
    big = await tokens_held_by_one(one, clock)
    await refused_tokens(two)
    assert await everything_told(one, redis_server, told) == []

    one.release(big, used_tokens=300)

    assert await everything_told(one, redis_server, told) == [("p", "m", False)]
    again = await admit(one)  # nobody refused since: its release is told to nobody
    assert isinstance(again, Reservation)
    one.release(again)
    assert await everything_told(one, redis_server, told) == []


async def test_a_refused_request_that_will_not_wait_leaves_releases_untold(
    replica, clock, redis_server, told
) -> None:
    one, two = await replica(), await replica()  # queue mode off
    big = await tokens_held_by_one(one, clock)
    await refused_tokens(two)

    one.release(big, used_tokens=300)

    assert await everything_told(one, redis_server, told) == []


async def test_a_window_reported_reset_on_one_replica_is_told_to_the_queued_ones(
    replica, clock, redis_server, told
) -> None:
    one, two = await replica(), await replica()
    two.queue_mode = True
    await served(one, clock, remaining=0)
    refused = await admit(two)
    assert isinstance(refused, Skip) and refused.reason is SkipReason.REQUESTS_EXHAUSTED
    clock.advance(30)  # two would wait 30 s more for the reset it knows
    forced = one.force(PROVIDER, "m")

    one.observe(forced, requests_left(clock, remaining=9))  # a new window, from its headers

    assert await everything_told(one, redis_server, told) == [("p", "m", False)]
    one.release(forced)
    assert isinstance(await admit(two), Reservation)


async def test_a_key_wide_window_refusal_wakes_every_model_of_the_key(
    replica, clock, redis_server, told
) -> None:
    one, two = await replica(), await replica()
    two.queue_mode = True
    first = await admit(one)
    assert isinstance(first, Reservation)
    reset = clock.now() + 3600
    account = Metric(MetricKind.REQUESTS, Window.DAY, 100, 1, reset, scope=Scope.ACCOUNT)
    one.observe(first, LimitReport((account,)))
    one.release(first)
    held = await admit(one, model="other")
    assert isinstance(held, Reservation)
    assert isinstance(await admit(two), Skip)

    one.withdraw(held)  # never sent: its place is free again

    assert await everything_told(one, redis_server, told) == [("p", "other", True)]
