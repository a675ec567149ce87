"""A forced reservation: granted whatever admission says, held and released like an admitted
one, and what its answer teaches reaches the tracker all the same."""

from __future__ import annotations

import pytest

from chain429.config.schema import ProviderConfig
from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.metric import LimitReport, Metric, MetricKind, Window
from chain429.limits.state import KeyModelState
from chain429.limits.tracker import Demand, LimitTracker, Reservation, Skip, SkipReason
from chain429.outcome import Outcome
from tests.support.clock import START

POLICY = CooldownPolicy(60.0, 5.0, 3600.0, 3, 30.0, 600.0)
P = ProviderConfig.model_validate(
    {"id": "p", "type": "groq", "apiKeys": ["key-one-11111111", "key-two-22222222"]}
)
ONE_KEY = ProviderConfig.model_validate({"id": "p", "type": "groq", "apiKey": "key-one-11111111"})


@pytest.fixture
def tracker(clock) -> LimitTracker:
    return LimitTracker(POLICY, clock)


def admitted(tracker: LimitTracker, provider: ProviderConfig = P) -> Reservation:
    result = tracker.admit(provider, "m")
    assert isinstance(result, Reservation), result
    return result


def state(tracker: LimitTracker) -> KeyModelState:
    found = tracker.model_state("p", 0, "m")
    assert found is not None
    return found


def exhausted(remaining: int = 0) -> LimitReport:
    metric = Metric(MetricKind.REQUESTS, Window.MINUTE, 10, remaining, START + 60)
    return LimitReport(metrics=(metric,))


def test_a_cooling_entry_is_reserved_on_its_first_key_when_forced(tracker):
    for _ in P.keys:
        reservation = admitted(tracker)
        tracker.record(reservation, Outcome.RATE_LIMITED, START + 30)
        tracker.release(reservation)
    assert isinstance(tracker.admit(P, "m"), Skip)

    forced = tracker.force(P, "m", Demand(7))

    assert (forced.key_index, forced.key_label, forced.model, forced.tokens) == (0, "…1111", "m", 7)
    assert state(tracker).in_flight == 1
    tracker.release(forced)
    assert state(tracker).in_flight == 0


def test_a_forced_reservation_holds_the_exhausted_window_and_spends_it_on_release(tracker):
    first = admitted(tracker, ONE_KEY)
    tracker.observe(first, exhausted(remaining=1))
    tracker.release(first)
    second = admitted(tracker, ONE_KEY)
    tracker.release(second)  # no header: the window counts it itself, down to 0
    skip = tracker.admit(ONE_KEY, "m")
    assert isinstance(skip, Skip) and skip.reason is SkipReason.REQUESTS_EXHAUSTED

    forced = tracker.force(ONE_KEY, "m")
    window = state(tracker).windows[(MetricKind.REQUESTS, Window.MINUTE)]
    assert window.in_flight == 1
    tracker.release(forced)
    assert (window.in_flight, window.remaining) == (0, 0)


def test_what_a_forced_answer_teaches_is_applied(tracker, clock):
    forced = tracker.force(P, "m")
    tracker.record(forced, Outcome.RATE_LIMITED, START + 90, "HTTP 429: slow down")
    tracker.release(forced)

    # the first key cools down until the provider's reset; the second key still serves
    assert admitted(tracker).key_index == 1
    assert (state(tracker).cooldown_until, state(tracker).reason) == (
        START + 90,
        "HTTP 429: slow down",
    )
