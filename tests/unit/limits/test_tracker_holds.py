"""What a reservation holds of its windows until it is released, and what a released one
gives back: requests and tokens, on the entry's windows and its key's."""

from __future__ import annotations

import pytest

from chain429.config.schema import ProviderConfig, RateLimits
from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.manual import ManualLimits
from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Window
from chain429.limits.tracker import Demand, LimitTracker, Reservation
from chain429.limits.window import WindowState
from tests.support.clock import START

POLICY = CooldownPolicy(60.0, 5.0, 3600.0, 3, 30.0, 600.0)
P = ProviderConfig.model_validate({"id": "p", "type": "openrouter", "apiKey": "key-one-11111111"})


@pytest.fixture
def tracker(clock) -> LimitTracker:
    return LimitTracker(POLICY, clock)


def admitted(tracker: LimitTracker, model: str = "m", tokens: int = 0) -> Reservation:
    result = tracker.admit(P, model, Demand(tokens))
    assert isinstance(result, Reservation), result
    return result


def minute(remaining: int, scope: Scope = Scope.MODEL, reset_in: float = 60) -> Metric:
    return Metric(MetricKind.REQUESTS, Window.MINUTE, 10, remaining, START + reset_in, scope=scope)


def model_window(tracker: LimitTracker, model: str = "m") -> WindowState:
    state = tracker.model_state("p", 0, model)
    assert state is not None
    return state.windows[(MetricKind.REQUESTS, Window.MINUTE)]


def key_window(tracker: LimitTracker, scope: Scope) -> WindowState:
    key = tracker.key_state("p", 0)
    assert key is not None
    return key.windows[(MetricKind.REQUESTS, Window.MINUTE, scope)]


def test_a_late_answer_within_the_window_does_not_raise_what_is_left(tracker):
    first, second = admitted(tracker), admitted(tracker)
    tracker.observe(second, LimitReport(metrics=(minute(4),)))
    tracker.observe(first, LimitReport(metrics=(minute(7, reset_in=59.5),)))
    tracker.release(first)
    tracker.release(second)
    window = model_window(tracker)
    assert (window.remaining, window.in_flight) == (4, 0)


def test_a_later_answer_updates_the_time_of_the_figure(tracker, clock):
    first = admitted(tracker)
    tracker.observe(first, LimitReport(metrics=(minute(4),)))
    clock.advance(3)
    tracker.observe(first, LimitReport(metrics=(minute(3),)))
    tracker.release(first)
    assert model_window(tracker).updated_at == START + 3


def test_the_request_that_reports_a_new_window_holds_nothing_more_of_it(tracker):
    first = admitted(tracker)
    tracker.observe(first, LimitReport(metrics=(minute(1),)))
    second = tracker.admit(P, "m")
    assert isinstance(second, Reservation), "the provider counted the first one in its figure"


def test_a_released_reservation_holds_no_part_of_a_window_first_seen_later(tracker):
    tracker.release(admitted(tracker))
    second = admitted(tracker)
    tracker.observe(second, LimitReport(metrics=(minute(5), minute(6, Scope.ACCOUNT))))
    assert model_window(tracker).in_flight == 0
    assert key_window(tracker, Scope.ACCOUNT).in_flight == 0
    tracker.release(second)


def test_a_new_free_models_window_holds_only_the_free_requests_in_flight(tracker):
    paid = [admitted(tracker, "paid"), admitted(tracker, "other")]
    free = admitted(tracker, "a:free")
    reporting = admitted(tracker, "b:free")
    tracker.observe(reporting, LimitReport(metrics=(minute(5, Scope.FREE_MODELS),)))
    assert key_window(tracker, Scope.FREE_MODELS).in_flight == 1
    for reservation in (*paid, free, reporting):
        tracker.release(reservation)
    assert key_window(tracker, Scope.FREE_MODELS).in_flight == 0


def test_listeners_hear_of_every_release(tracker):
    heard: list[Reservation] = []
    tracker.on_release(heard.append)
    reservation = admitted(tracker)
    tracker.release(reservation)
    tracker.release(reservation)
    assert heard == [reservation]


def test_tokens_spent_without_a_report_are_counted_on_release(clock):
    limits = ManualLimits(providers={"p": RateLimits(tokens_per_minute=1000)})
    tracker = LimitTracker(POLICY, clock, limits=limits)
    reservation = admitted(tracker, tokens=100)
    state = tracker.model_state("p", 0, "m")
    assert state is not None
    window = state.windows[(MetricKind.TOKENS, Window.MINUTE)]
    assert window.headroom() == 900
    tracker.release(reservation, used_tokens=250)
    assert (window.remaining, window.in_flight) == (750, 0)
