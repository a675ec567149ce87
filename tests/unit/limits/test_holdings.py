"""`LimitTracker.holdings`: what the reservations in flight hold, named counter by counter, and
nothing once every one is released."""

from __future__ import annotations

import pytest

from chain429.config.schema import ProviderConfig
from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Window
from chain429.limits.tracker import Demand, LimitTracker, Reservation
from tests.support.clock import START

POLICY = CooldownPolicy(60.0, 5.0, 3600.0, 3, 30.0, 600.0)
P = ProviderConfig.model_validate({"id": "p", "type": "groq", "apiKey": "key-one-11111111"})


@pytest.fixture
def tracker(clock) -> LimitTracker:
    return LimitTracker(POLICY, clock)


def admitted(tracker: LimitTracker, tokens: int = 0) -> Reservation:
    result = tracker.admit(P, "m", Demand(tokens))
    assert isinstance(result, Reservation), result
    return result


def report(scope: Scope = Scope.MODEL) -> LimitReport:
    tokens = Metric(MetricKind.TOKENS, Window.MINUTE, 1000, 900, START + 60, scope=scope)
    return LimitReport(metrics=(tokens,))


def test_a_tracker_nothing_went_through_holds_nothing(tracker):
    assert tracker.holdings() == []


def test_each_counter_a_reservation_holds_is_named_until_it_is_released(tracker):
    first, second = admitted(tracker, tokens=30), admitted(tracker, tokens=20)
    tracker.observe(first, report())
    tracker.observe(first, report(Scope.ACCOUNT))

    assert tracker.holdings() == [
        "provider p: 2 in flight",
        "entry p/m: 2 in flight",
        "p/m on key slot 0: 2 in flight, 2 live",
        "p/m on key slot 0, tokens per minute: 20 held",
        "key 0 of p: 2 live",
        "key 0 of p, tokens per minute: 20 held",
    ]
    tracker.release(second)
    assert tracker.holdings() == [
        "provider p: 1 in flight",
        "entry p/m: 1 in flight",
        "p/m on key slot 0: 1 in flight, 1 live",
        "key 0 of p: 1 live",
    ]
    tracker.release(first, used_tokens=40)
    assert tracker.holdings() == []


def test_a_window_left_holding_after_every_release_is_named(tracker):
    """What a leak looks like: a window whose hold was never given back."""
    reservation = admitted(tracker, tokens=30)
    tracker.observe(reservation, report())
    tracker.release(reservation)
    state = tracker.model_state("p", 0, "m")
    assert state is not None
    state.windows[(MetricKind.TOKENS, Window.MINUTE)].in_flight += 7

    assert tracker.holdings() == ["p/m on key slot 0, tokens per minute: 7 held"]
