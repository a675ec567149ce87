"""A key the replicas' shared state refuses is passed over as one the local state refuses:
the provider's next key is asked, and the entry is skipped only when no key is left."""

from __future__ import annotations

import pytest

from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.setup import ProviderTraits
from chain429.limits.state import Reservation
from chain429.limits.tracker import PAYMENT_COOLDOWN_S, Demand, LimitTracker, Skip, SkipReason
from chain429.outcome import Outcome
from chain429.router.fleet_admission import next_key
from tests.support.clock import FakeClock
from tests.support.configs import key_provider

POLICY = CooldownPolicy(
    default_s=60.0,
    failure_penalty_s=5.0,
    payment_s=PAYMENT_COOLDOWN_S,
    mid_stream_threshold=3,
    mid_stream_s=30.0,
    mid_stream_max_s=100.0,
)
PROVIDER = key_provider("sk-one-1111aaaa", "sk-two-2222bbbb", "sk-three-3333cccc")


class Fleet(LimitTracker):
    """A tracker whose shared state refuses the keys in `refusing` (by index)."""

    shared = True

    def __init__(self, clock: FakeClock, refusing: dict[int, Skip], *, one_state: bool = False):
        traits = {"p": ProviderTraits(keys_share_limits=one_state)}
        super().__init__(POLICY, clock, traits)
        self.refusing = refusing
        self.asked: list[int] = []

    async def admit_shared(self, reservation: Reservation, demand: Demand) -> Reservation | Skip:
        self.asked.append(reservation.key_index)
        refusal = self.refusing.get(reservation.key_index)
        if refusal is None:
            return reservation
        self.withdraw(reservation)
        return refusal


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def exhausted(until: float) -> Skip:
    return Skip(SkipReason.REQUESTS_EXHAUSTED, until, "requests per minute exhausted")


async def first_admission(tracker: Fleet) -> Reservation | Skip:
    """Admission as the walk asks it: locally, confirmed by the fleet, then the next keys."""
    local = tracker.admit(PROVIDER, "m")
    assert isinstance(local, Reservation)
    answer = await tracker.admit_shared(local, Demand())
    if isinstance(answer, Skip):
        return await next_key(tracker, PROVIDER, "m", local, answer, Demand())
    return answer


async def test_a_key_the_fleet_refuses_gives_way_to_the_next_key(clock) -> None:
    tracker = Fleet(clock, {0: exhausted(clock.now() + 30)})

    granted = await first_admission(tracker)

    assert isinstance(granted, Reservation) and granted.key_index == 1
    assert tracker.asked == [0, 1]
    assert tracker.holdings()  # key 1 held
    tracker.release(granted)
    assert tracker.holdings() == []  # the refused key's reservation was withdrawn


async def test_every_key_refused_skips_the_entry_until_the_soonest_of_them(clock) -> None:
    now = clock.now()
    tracker = Fleet(clock, {0: exhausted(now + 30), 1: exhausted(now + 10), 2: exhausted(now + 20)})

    refused = await first_admission(tracker)

    assert refused == exhausted(now + 10)
    assert tracker.asked == [0, 1, 2]
    assert tracker.holdings() == []


async def test_keys_left_that_the_local_state_refuses_end_the_search(clock) -> None:
    now = clock.now()
    tracker = Fleet(clock, {0: exhausted(now + 30)})
    for index in (1, 2):
        cooled = tracker.admit(PROVIDER, "m", first_key=index)
        assert isinstance(cooled, Reservation) and cooled.key_index == index
        tracker.release(cooled)
        tracker.record(cooled, Outcome.RATE_LIMITED, now + 5)

    refused = await first_admission(tracker)

    assert isinstance(refused, Skip) and refused.reason is SkipReason.COOLING_DOWN
    assert refused.until == now + 5
    assert tracker.asked == [0]


async def test_keys_that_share_one_state_are_refused_together(clock) -> None:
    tracker = Fleet(clock, {0: exhausted(clock.now() + 30)}, one_state=True)

    refused = await first_admission(tracker)

    assert refused == exhausted(clock.now() + 30)
    assert tracker.asked == [0]
