"""Admission, reservations and cooldowns on a FakeClock: no sleeps, time is moved by hand."""

from __future__ import annotations

import pytest

from chain429.config.schema import ProviderConfig
from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Window
from chain429.limits.tracker import (
    PAYMENT_COOLDOWN_S,
    LimitTracker,
    Reservation,
    Skip,
    SkipReason,
    key_label,
)
from chain429.outcome import Outcome
from tests.support.clock import START
from tests.support.configs import key_provider

POLICY = CooldownPolicy(
    default_s=60.0,
    failure_penalty_s=5.0,
    payment_s=PAYMENT_COOLDOWN_S,
    mid_stream_threshold=3,
    mid_stream_s=30.0,
    mid_stream_max_s=100.0,
)
KEY_ONE = "sk-first-key-aaaa1111"
KEY_TWO = "sk-second-key-bbbb2222"


def provider(*keys: str, concurrent: int | None = None) -> ProviderConfig:
    return key_provider(*keys, concurrent=concurrent)


@pytest.fixture
def tracker(clock) -> LimitTracker:
    return LimitTracker(POLICY, clock)


def admitted(tracker: LimitTracker, prov: ProviderConfig, model: str = "m") -> Reservation:
    result = tracker.admit(prov, model)
    assert isinstance(result, Reservation), result
    return result


def skipped(tracker: LimitTracker, prov: ProviderConfig, model: str = "m") -> Skip:
    result = tracker.admit(prov, model)
    assert isinstance(result, Skip), result
    return result


def fail(tracker, prov, outcome, retry_at=None, model="m", scope=Scope.MODEL) -> None:
    reservation = admitted(tracker, prov, model)
    tracker.release(reservation)
    tracker.record(reservation, outcome, retry_at, "", scope)


def test_a_reservation_names_its_key_by_its_last_four_characters(tracker):
    reservation = admitted(tracker, provider(KEY_ONE))
    assert reservation.key_label == "…1111"
    assert reservation.api_key == KEY_ONE


def test_a_short_key_is_labelled_by_its_position_only(tracker, clock):
    p = provider("ab12", "cd34ef")
    first = admitted(tracker, p)
    assert first.key_label == "key#1"
    tracker.release(first)
    tracker.record(first, Outcome.AUTH_FAILED)
    second = admitted(tracker, p)
    assert (second.key_index, second.key_label) == (1, "key#2")
    assert key_label("ab12", 0) == key_label("zz99", 0), "nothing of the key shows"


def test_429_cools_the_entry_down_until_the_retry_time(tracker, clock):
    p = provider(KEY_ONE)
    fail(tracker, p, Outcome.RATE_LIMITED, START + 30)
    skip = skipped(tracker, p)
    assert (skip.reason, skip.until) == (SkipReason.COOLING_DOWN, START + 30)
    assert tracker.available_at(p, "m") == START + 30
    assert isinstance(tracker.admit(p, "other-model"), Reservation), "other models are free"
    clock.set(START + 29.999)
    skipped(tracker, p)
    clock.set(START + 30)
    admitted(tracker, p)
    assert tracker.available_at(p, "m") == START + 30


def test_a_second_429_extends_and_a_shorter_one_never_shortens(tracker, clock):
    p = provider(KEY_ONE)
    fail(tracker, p, Outcome.RATE_LIMITED, START + 30)
    first = admitted(tracker, p, "n")
    second = admitted(tracker, p, "n")
    tracker.release(first)
    tracker.release(second)
    tracker.record(first, Outcome.RATE_LIMITED, START + 10)
    tracker.record(second, Outcome.RATE_LIMITED, START + 40)
    assert skipped(tracker, p, "n").until == START + 40
    third = Reservation("p", 0, "…", KEY_ONE, "n")
    tracker.record(third, Outcome.RATE_LIMITED, START + 15)
    assert skipped(tracker, p, "n").until == START + 40


def test_untimed_429s_back_off_and_a_success_resets_them(tracker, clock):
    p = provider(KEY_ONE)
    for expected in (60, 120, 240):
        fail(tracker, p, Outcome.RATE_LIMITED)
        assert skipped(tracker, p).until == clock.now() + expected
        clock.advance(expected)
    fail(tracker, p, Outcome.SERVED)
    fail(tracker, p, Outcome.RATE_LIMITED)
    assert skipped(tracker, p).until == clock.now() + 60


def test_untimed_429s_of_one_burst_count_one_strike(tracker, clock):
    p = provider(KEY_ONE)
    burst = [admitted(tracker, p) for _ in range(50)]
    for reservation in burst:
        clock.advance(0.01)
        tracker.release(reservation)
        tracker.record(reservation, Outcome.RATE_LIMITED)
    assert skipped(tracker, p).until == clock.now() + 60, "one episode, no doubling"
    assert tracker.model_state("p", 0, "m").untimed_strikes == 1
    clock.advance(60)
    fail(tracker, p, Outcome.RATE_LIMITED)
    assert skipped(tracker, p).until == clock.now() + 120, "the next episode doubles"


def test_a_429_arriving_during_a_cooldown_extends_the_episode_without_a_strike(tracker, clock):
    p = provider(KEY_ONE)
    early, late = admitted(tracker, p), admitted(tracker, p)
    tracker.release(early)
    tracker.record(early, Outcome.RATE_LIMITED)
    clock.advance(30)
    tracker.release(late)
    tracker.record(late, Outcome.RATE_LIMITED)
    assert skipped(tracker, p).until == clock.now() + 60
    assert tracker.model_state("p", 0, "m").untimed_strikes == 1


def test_a_timed_429_resets_the_untimed_backoff(tracker, clock):
    p = provider(KEY_ONE)
    fail(tracker, p, Outcome.RATE_LIMITED)
    clock.advance(60)
    fail(tracker, p, Outcome.RATE_LIMITED, clock.now() + 5)
    clock.advance(5)
    fail(tracker, p, Outcome.RATE_LIMITED)
    assert skipped(tracker, p).until == clock.now() + 60


def test_a_429_with_a_retry_time_in_the_past_uses_the_default(tracker, clock):
    p = provider(KEY_ONE)
    fail(tracker, p, Outcome.RATE_LIMITED, START - 10)
    assert skipped(tracker, p).until == START + 60


def test_exhausted_reset_headers_on_a_429_time_the_cooldown(tracker, clock):
    p = provider(KEY_ONE)
    reservation = admitted(tracker, p)
    metric = Metric(MetricKind.REQUESTS, Window.DAY, 14_400, 0, START + 120)
    tracker.observe(reservation, LimitReport(metrics=(metric,)))
    tracker.release(reservation)
    tracker.record(reservation, Outcome.RATE_LIMITED, None, "")
    skip = skipped(tracker, p)
    assert skip.until == START + 120
    clock.set(START + 120)
    admitted(tracker, p)


def test_402_cools_every_model_of_the_key_down_for_long(tracker, clock):
    p = provider(KEY_ONE)
    fail(tracker, p, Outcome.PAYMENT_REQUIRED)
    for model in ("m", "other"):
        skip = skipped(tracker, p, model)
        assert (skip.reason, skip.until) == (SkipReason.OUT_OF_CREDIT, START + PAYMENT_COOLDOWN_S)
    clock.advance(PAYMENT_COOLDOWN_S)
    admitted(tracker, p, "other")


@pytest.mark.parametrize("outcome", [Outcome.AUTH_FAILED])
def test_a_rejected_key_is_set_aside_and_the_next_key_used(tracker, clock, outcome):
    p = provider(KEY_ONE, KEY_TWO)
    fail(tracker, p, outcome)
    reservation = admitted(tracker, p, "any-model")
    assert reservation.key_index == 1 and reservation.key_label == "…2222"
    tracker.release(reservation)
    tracker.record(reservation, outcome)
    skip = skipped(tracker, p)
    assert (skip.reason, skip.until) == (SkipReason.KEY_DISABLED, None)
    assert tracker.available_at(p, "m") is None
    clock.advance(365 * 86_400)
    skipped(tracker, p)


def test_404_sets_only_that_model_aside(tracker, clock):
    p = provider(KEY_ONE)
    fail(tracker, p, Outcome.NOT_FOUND)
    skip = skipped(tracker, p)
    assert (skip.reason, skip.until) == (SkipReason.ENTRY_DISABLED, None)
    assert tracker.available_at(p, "m") is None
    admitted(tracker, p, "other")


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome.SERVER_ERROR,
        Outcome.TIMEOUT,
        Outcome.CONNECT_ERROR,
        Outcome.BAD_RESPONSE,
        Outcome.IN_BAND_ERROR,
    ],
)
def test_transport_failures_cost_a_short_penalty(tracker, clock, outcome):
    p = provider(KEY_ONE)
    fail(tracker, p, outcome)
    skip = skipped(tracker, p)
    assert (skip.reason, skip.until) == (SkipReason.FAILING, START + 5)
    clock.advance(5)
    admitted(tracker, p)


def test_an_outcome_counts_from_when_it_was_learnt_when_the_caller_says(tracker, clock):
    p = provider(KEY_ONE)
    reservation = admitted(tracker, p)
    tracker.release(reservation)
    tracker.record(reservation, Outcome.TIMEOUT, None, "", Scope.MODEL, START - 2)
    assert tracker.available_at(p, "m", now=START) == START + 3
    assert skipped(tracker, p).until == START + 3


def record(tracker, prov, outcome, retry_at=None, reason="") -> None:
    """One more attempt's outcome on an entry that may be cooling down (a request that was in
    flight when the cooldown began)."""
    reservation = Reservation("p", 0, "…", prov.keys[0], "m")
    tracker.record(reservation, outcome, retry_at, reason)


def test_the_cooldown_that_ends_last_says_whether_the_entry_is_failing_or_cooling(tracker):
    p = provider(KEY_ONE)
    record(tracker, p, Outcome.SERVER_ERROR, reason="HTTP 500")
    assert skipped(tracker, p).reason is SkipReason.FAILING
    record(tracker, p, Outcome.RATE_LIMITED, START + 60, "HTTP 429")
    skip = skipped(tracker, p)
    assert (skip.reason, skip.until, skip.detail) == (
        SkipReason.COOLING_DOWN,
        START + 60,
        "HTTP 429",
    )
    record(tracker, p, Outcome.TIMEOUT, reason="no answer")
    skip = skipped(tracker, p)
    assert (skip.reason, skip.until, skip.detail) == (
        SkipReason.COOLING_DOWN,
        START + 60,
        "HTTP 429",
    ), "a shorter penalty neither shortens a rate-limit cooldown nor renames it"


def test_a_rate_limit_inside_a_longer_penalty_leaves_it_a_penalty(tracker, clock):
    p = provider(KEY_ONE)
    for _ in range(POLICY.mid_stream_threshold):
        record(tracker, p, Outcome.MID_STREAM_FAILURE)
    record(tracker, p, Outcome.RATE_LIMITED, START + 10, "HTTP 429")
    skip = skipped(tracker, p)
    assert (skip.reason, skip.until) == (SkipReason.FAILING, START + 30)
    assert "mid-way" in skip.detail
    clock.advance(30)
    record(tracker, p, Outcome.RATE_LIMITED, START + 40, "HTTP 429")
    assert skipped(tracker, p).reason is SkipReason.COOLING_DOWN, "a new episode, a new kind"


@pytest.mark.parametrize("outcome", [Outcome.REJECTED, Outcome.SERVED])
def test_rejections_and_successes_cost_nothing(tracker, outcome):
    p = provider(KEY_ONE)
    fail(tracker, p, outcome)
    admitted(tracker, p)


def test_the_soonest_key_is_reported_when_every_key_is_blocked(tracker, clock):
    p = provider(KEY_ONE, KEY_TWO)
    first = admitted(tracker, p)
    tracker.release(first)
    tracker.record(first, Outcome.RATE_LIMITED, START + 50)
    second = admitted(tracker, p)
    assert second.key_index == 1
    tracker.release(second)
    tracker.record(second, Outcome.RATE_LIMITED, START + 20)
    assert skipped(tracker, p).until == START + 20
    assert tracker.available_at(p, "m") == START + 20
    clock.set(START + 20)
    assert admitted(tracker, p).key_index == 1


def test_mid_stream_failures_escalate_after_the_threshold(tracker, clock):
    p = provider(KEY_ONE)
    for length in (30, 60, 100, 100):
        for _ in range(POLICY.mid_stream_threshold - 1):
            fail(tracker, p, Outcome.MID_STREAM_FAILURE)
            admitted_now = tracker.admit(p, "m")
            assert isinstance(admitted_now, Reservation)
            tracker.release(admitted_now)
        fail(tracker, p, Outcome.MID_STREAM_FAILURE)
        skip = skipped(tracker, p)
        assert (skip.reason, skip.until) == (SkipReason.FAILING, clock.now() + length)
        assert "mid-way" in skip.detail
        clock.advance(length)


def test_a_success_resets_the_mid_stream_count(tracker):
    p = provider(KEY_ONE)
    fail(tracker, p, Outcome.MID_STREAM_FAILURE)
    fail(tracker, p, Outcome.MID_STREAM_FAILURE)
    fail(tracker, p, Outcome.SERVED)
    fail(tracker, p, Outcome.MID_STREAM_FAILURE)
    fail(tracker, p, Outcome.MID_STREAM_FAILURE)
    admitted(tracker, p)


def mid_stream_cooldown(tracker, clock, p) -> float:
    """Break streams until the entry cools down; how long it sits out (the clock moves past)."""
    for _ in range(POLICY.mid_stream_threshold):
        fail(tracker, p, Outcome.MID_STREAM_FAILURE)
    length = skipped(tracker, p).until - clock.now()
    clock.advance(length)
    return length


def test_clean_serves_take_mid_stream_escalations_back(tracker, clock):
    p = provider(KEY_ONE)
    assert [mid_stream_cooldown(tracker, clock, p) for _ in range(3)] == [30, 60, 100]
    for _ in range(POLICY.mid_stream_threshold):
        fail(tracker, p, Outcome.SERVED)
    assert mid_stream_cooldown(tracker, clock, p) == 100, "three escalations, one taken back"
    for _ in range(10 * POLICY.mid_stream_threshold):
        fail(tracker, p, Outcome.SERVED)
    assert tracker.model_state("p", 0, "m").mid_stream_escalations == 0
    assert mid_stream_cooldown(tracker, clock, p) == 30


def test_serves_interrupted_by_a_broken_stream_take_nothing_back(tracker, clock):
    p = provider(KEY_ONE)
    assert [mid_stream_cooldown(tracker, clock, p) for _ in range(2)] == [30, 60]
    for _ in range(4):
        for _ in range(POLICY.mid_stream_threshold - 1):
            fail(tracker, p, Outcome.SERVED)
        fail(tracker, p, Outcome.MID_STREAM_FAILURE)
    assert tracker.model_state("p", 0, "m").mid_stream_escalations == 2


def test_concurrency_is_reserved_and_released(tracker, clock):
    p = provider(KEY_ONE, concurrent=2)
    first = admitted(tracker, p)
    second = admitted(tracker, p, "other-model")
    skip = skipped(tracker, p)
    assert skip.reason is SkipReason.CONCURRENCY_FULL
    assert tracker.available_at(p, "m") == clock.now()
    tracker.release(first)
    tracker.release(first)  # releasing twice gives back only once
    third = admitted(tracker, p)
    skipped(tracker, p)
    tracker.release(second)
    tracker.release(third)
    admitted(tracker, p)


def test_account_scoped_429_cools_every_model_of_the_key(tracker):
    p = provider(KEY_ONE)
    fail(tracker, p, Outcome.RATE_LIMITED, START + 30, scope=Scope.ACCOUNT)
    assert skipped(tracker, p, "other").until == START + 30


def test_free_models_scoped_429_cools_only_free_models(tracker, clock):
    p = provider(KEY_ONE)
    midnight = START + 57_600
    fail(tracker, p, Outcome.RATE_LIMITED, midnight, "a:free", Scope.FREE_MODELS)
    assert skipped(tracker, p, "b:free").until == midnight
    admitted(tracker, p, "paid-model")
    clock.set(midnight)
    admitted(tracker, p, "b:free")


def test_reading_the_state_creates_none(tracker):
    p = provider(KEY_ONE)
    assert tracker.model_state("p", 0, "m") is None
    assert tracker.key_state("p", 0) is None
    assert list(tracker.model_states()) == [] and list(tracker.key_states()) == []
    fail(tracker, p, Outcome.RATE_LIMITED, START + 30)
    [(key_model, state)] = tracker.model_states()
    assert key_model == ("p", 0, "m") and state.cooldown_until == START + 30
    assert tracker.model_state("p", 0, "other") is None


def test_a_key_has_windows_once_a_key_wide_limit_is_reported(tracker):
    p = provider(KEY_ONE)
    model_wide = Metric(MetricKind.REQUESTS, Window.DAY, 100, 50, START + 60)
    reservation = admitted(tracker, p)
    tracker.observe(reservation, LimitReport(metrics=(model_wide,)))
    tracker.release(reservation)
    assert not tracker.key_has_windows("p", 0)
    key_wide = Metric(MetricKind.REQUESTS, Window.DAY, 100, 50, START + 60, scope=Scope.ACCOUNT)
    reservation = admitted(tracker, p)
    tracker.observe(reservation, LimitReport(metrics=(key_wide,)))
    tracker.release(reservation)
    assert tracker.key_has_windows("p", 0)
    assert not tracker.key_has_windows("p", 1)
