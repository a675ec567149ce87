"""What a skip says (reason, until when, the words a person reads), at the edges of each limit;
and the settings the cooldowns are read from."""

from __future__ import annotations

import pytest

from chain429.config.schema import ProviderConfig, RateLimits
from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.manual import ManualLimits
from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Window
from chain429.limits.tracker import (
    PAYMENT_COOLDOWN_S,
    Demand,
    LimitTracker,
    ProviderTraits,
    Reservation,
    Skip,
    SkipReason,
    key_label,
    policy_from,
)
from chain429.limits.window import UNKNOWN_RESET_S
from chain429.outcome import Outcome
from tests.support.clock import START
from tests.support.configs import build_config, entries, key_provider

POLICY = CooldownPolicy(
    default_s=60.0,
    failure_penalty_s=5.0,
    payment_s=PAYMENT_COOLDOWN_S,
    mid_stream_threshold=3,
    mid_stream_s=30.0,
    mid_stream_max_s=1000.0,
)
KEYS = ("key-one-11111111", "key-two-22222222")


def provider(*keys: str, concurrent: int | None = None) -> ProviderConfig:
    return key_provider(*(keys or KEYS[:1]), concurrent=concurrent)


P = provider()
TWO = provider(*KEYS)


@pytest.fixture
def tracker(clock) -> LimitTracker:
    return LimitTracker(POLICY, clock)


def admitted(tracker: LimitTracker, prov=P, model="m", tokens=0) -> Reservation:
    result = tracker.admit(prov, model, Demand(tokens))
    assert isinstance(result, Reservation), result
    return result


def skip_of(tracker: LimitTracker, prov=P, model="m", tokens=0) -> tuple:
    result = tracker.admit(prov, model, Demand(tokens))
    assert isinstance(result, Skip), result
    return (result.reason, result.until, result.detail)


def ended(tracker: LimitTracker, outcome: Outcome, *args, model="m") -> None:
    """Record `outcome` on an attempt (without a reason: the default words apply)."""
    reservation = admitted(tracker, model=model)
    tracker.release(reservation)
    tracker.record(reservation, outcome, *args)


def told(tracker: LimitTracker, *metrics: Metric, model="m") -> None:
    reservation = admitted(tracker, model=model)
    tracker.observe(reservation, LimitReport(metrics=metrics))
    tracker.release(reservation)


def test_settings_become_the_cooldown_policy():
    config = build_config(
        [{"id": "p", "type": "groq", "apiKey": KEYS[0]}],
        {"c": entries(("p", "m"))},
        cooldownDefaultMs=7000,
        failurePenaltyMs=3000,
        midStreamFailureThreshold=4,
        midStreamCooldownMs=11000,
        midStreamCooldownMaxMs=99000,
    )
    assert policy_from(config.settings) == CooldownPolicy(7.0, 3.0, 3600.0, 4, 11.0, 99.0)


def test_a_key_of_eight_characters_shows_its_last_four():
    assert key_label("abcd1234", 0) == "…1234"
    assert key_label("bcd1234", 2) == "key#3"


def test_the_default_words_of_each_outcome(tracker):
    ended(tracker, Outcome.RATE_LIMITED, START + 30)
    assert skip_of(tracker) == (SkipReason.COOLING_DOWN, START + 30, "rate limited (429)")
    ended(tracker, Outcome.NOT_FOUND, model="gone")
    assert skip_of(tracker, model="gone") == (
        SkipReason.ENTRY_DISABLED,
        None,
        "model not found (404)",
    )


def test_a_rejected_key_says_so(tracker):
    ended(tracker, Outcome.AUTH_FAILED)
    assert skip_of(tracker) == (SkipReason.KEY_DISABLED, None, "key rejected (401/403)")


def test_a_key_out_of_credit_says_so(tracker):
    ended(tracker, Outcome.PAYMENT_REQUIRED)
    until = START + PAYMENT_COOLDOWN_S
    assert skip_of(tracker) == (SkipReason.OUT_OF_CREDIT, until, "out of credit (402)")


def test_broken_streams_say_so(tracker):
    for _ in range(POLICY.mid_stream_threshold):
        ended(tracker, Outcome.MID_STREAM_FAILURE)
    assert skip_of(tracker) == (SkipReason.FAILING, START + 30, "streams keep failing mid-way")


@pytest.mark.parametrize(
    ("scope", "model"), [(Scope.ACCOUNT, "other"), (Scope.FREE_MODELS, "other:free")]
)
def test_a_key_wide_cooldown_says_why_and_ends_on_time(tracker, clock, scope, model):
    reservation = admitted(tracker, model="m:free")
    tracker.release(reservation)
    tracker.record(reservation, Outcome.RATE_LIMITED, START + 30, "daily cap", scope)
    assert skip_of(tracker, model=model) == (SkipReason.COOLING_DOWN, START + 30, "daily cap")
    clock.set(START + 30)
    admitted(tracker, model=model)


def test_a_full_provider_says_so_and_counts_its_first_request(tracker):
    one = provider(KEYS[0], concurrent=1)
    held = admitted(tracker, one)
    assert skip_of(tracker, one, "other") == (
        SkipReason.CONCURRENCY_FULL,
        None,
        "concurrent request limit reached",
    )
    tracker.release(held)


def test_a_full_entry_says_so_and_counts_its_first_request(clock):
    limits = ManualLimits(entries={("p", "m"): RateLimits(concurrent_requests=1)})
    tracker = LimitTracker(POLICY, clock, limits=limits)
    held = admitted(tracker)
    assert skip_of(tracker) == (
        SkipReason.CONCURRENCY_FULL,
        None,
        "entry concurrency limit reached",
    )
    admitted(tracker, model="other")
    tracker.release(held)


def test_releasing_one_of_several_frees_exactly_one_place(tracker):
    three = provider(KEYS[0], concurrent=3)
    held = [admitted(tracker, three) for _ in range(3)]
    tracker.release(held[0])
    admitted(tracker, three)
    assert skip_of(tracker, three)[0] is SkipReason.CONCURRENCY_FULL


REQUESTS_EMPTY = Metric(MetricKind.REQUESTS, Window.MINUTE, 30, 0, START + 40)


def test_an_empty_requests_window_names_itself(tracker):
    told(tracker, REQUESTS_EMPTY)
    assert skip_of(tracker) == (
        SkipReason.REQUESTS_EXHAUSTED,
        START + 40,
        "requests per minute exhausted",
    )


def test_an_empty_window_without_a_reset_is_assumed_empty_for_a_while(tracker):
    told(tracker, Metric(MetricKind.REQUESTS, Window.UNKNOWN, None, 0, None))
    assert skip_of(tracker) == (
        SkipReason.REQUESTS_EXHAUSTED,
        START + UNKNOWN_RESET_S,
        "request limit exhausted",
    )


def tokens(remaining: int, limit: int = 1000) -> Metric:
    return Metric(MetricKind.TOKENS, Window.DAY, limit, remaining, START + 600)


def test_a_request_as_large_as_the_whole_window_may_still_be_sent(tracker):
    told(tracker, tokens(1000))
    admitted(tracker, tokens=1000)


def test_a_request_larger_than_the_whole_window_is_too_large(tracker):
    told(tracker, tokens(1000))
    assert skip_of(tracker, tokens=1001) == (
        SkipReason.TOO_LARGE,
        None,
        "request needs more than the tokens per day allows",
    )


def test_an_empty_tokens_window_skips_even_a_request_of_unknown_size(tracker):
    told(tracker, tokens(0))
    assert skip_of(tracker, tokens=0) == (
        SkipReason.TOKENS_EXHAUSTED,
        START + 600,
        "tokens per day exhausted",
    )


def test_one_token_left_admits_a_one_token_request(tracker):
    told(tracker, tokens(1))
    admitted(tracker, tokens=1)


def late(tracker: LimitTracker, outcome: Outcome, retry_at: float | None = None) -> None:
    """The outcome of a request that was in flight when the entry's window ran out."""
    tracker.record(Reservation("p", 0, "…", KEYS[0], "m"), outcome, retry_at)


@pytest.mark.parametrize(
    ("reset_in", "remaining", "until_in"),
    [(9, 0, 9), (9.5, 0, 9.5), (8.5, 0, 10), (9.5, 1, 10), (10, 0, 10)],
)
def test_the_exact_reset_wins_over_a_retry_after_up_to_a_second_later(
    tracker, reset_in, remaining, until_in
):
    told(tracker, Metric(MetricKind.REQUESTS, Window.MINUTE, 30, remaining, START + reset_in))
    late(tracker, Outcome.RATE_LIMITED, START + 10)
    state = tracker.model_state("p", 0, "m")
    assert state is not None and state.cooldown_until == START + until_in


def test_a_window_resetting_now_does_not_time_an_untimed_429(tracker):
    told(tracker, Metric(MetricKind.REQUESTS, Window.MINUTE, 30, 0, START + 50))
    state = tracker.model_state("p", 0, "m")
    assert state is not None
    state.windows[(MetricKind.REQUESTS, Window.MINUTE)].reset_at = START
    late(tracker, Outcome.RATE_LIMITED)
    assert state.cooldown_until == START + POLICY.default_s


def test_keys_sharing_limits_share_cooldowns_and_availability(clock):
    traits = {"p": ProviderTraits(keys_share_limits=True)}
    tracker = LimitTracker(POLICY, clock, traits)
    assert (tracker.slot("p", 1), tracker.slot("other", 1)) == (0, 1)
    reservation = admitted(tracker, TWO)
    tracker.release(reservation)
    tracker.record(reservation, Outcome.RATE_LIMITED, START + 30)
    assert skip_of(tracker, TWO)[:2] == (SkipReason.COOLING_DOWN, START + 30)
    assert tracker.available_at(TWO, "m") == START + 30


def blocked(tracker: LimitTracker, outcome: Outcome, retry_at: float | None = None) -> None:
    reservation = admitted(tracker, TWO)
    tracker.release(reservation)
    tracker.record(reservation, outcome, retry_at)


def test_the_soonest_of_several_blocked_keys_is_reported(tracker):
    blocked(tracker, Outcome.RATE_LIMITED, START + 20)
    blocked(tracker, Outcome.RATE_LIMITED, START + 50)
    assert skip_of(tracker, TWO)[1] == START + 20
    assert tracker.available_at(TWO, "m") == START + 20


def test_a_key_set_aside_does_not_hide_another_keys_reset(tracker):
    blocked(tracker, Outcome.RATE_LIMITED, START + 20)
    blocked(tracker, Outcome.AUTH_FAILED)
    assert tracker.available_at(TWO, "m") == START + 20
    assert skip_of(tracker, TWO)[1] == START + 20


def test_clean_serves_take_back_one_escalation_for_every_threshold_in_a_row(tracker, clock):
    for _ in range(2):
        for _ in range(POLICY.mid_stream_threshold):
            ended(tracker, Outcome.MID_STREAM_FAILURE)
        clock.advance(1000)
    state = tracker.model_state("p", 0, "m")
    assert state is not None and state.mid_stream_escalations == 2
    reservation = Reservation("p", 0, "…", KEYS[0], "m")
    served = [tracker.record(reservation, Outcome.SERVED) for _ in range(3)]
    assert len(served) == 3 and state.mid_stream_escalations == 1
    tracker.record(reservation, Outcome.SERVED)
    tracker.record(reservation, Outcome.SERVED)
    assert state.mid_stream_escalations == 1, "two of the next three"
    tracker.record(reservation, Outcome.SERVED)
    assert state.mid_stream_escalations == 0


def test_a_rate_limit_ending_with_a_penalty_leaves_it_a_penalty(tracker):
    late(tracker, Outcome.SERVER_ERROR)
    late(tracker, Outcome.RATE_LIMITED, START + POLICY.failure_penalty_s)
    assert skip_of(tracker)[0] is SkipReason.FAILING


def test_a_shorter_cooldown_of_the_same_kind_renames_the_running_one(tracker):
    tracker.record(Reservation("p", 0, "…", KEYS[0], "m"), Outcome.RATE_LIMITED, START + 60, "A")
    tracker.record(Reservation("p", 0, "…", KEYS[0], "m"), Outcome.RATE_LIMITED, START + 30, "B")
    assert skip_of(tracker) == (SkipReason.COOLING_DOWN, START + 60, "B")


def test_an_empty_window_without_a_reset_refills_after_a_while(tracker, clock):
    told(tracker, Metric(MetricKind.REQUESTS, Window.UNKNOWN, None, 0, None))
    clock.advance(UNKNOWN_RESET_S)
    admitted(tracker)


def test_a_window_without_a_reset_full_of_requests_frees_up_after_a_while(tracker):
    told(tracker, Metric(MetricKind.REQUESTS, Window.MINUTE, 5, 1, None))
    held = admitted(tracker)
    assert skip_of(tracker)[:2] == (SkipReason.REQUESTS_EXHAUSTED, START + UNKNOWN_RESET_S)
    tracker.release(held)


def test_availability_counts_the_tokens_a_request_needs(tracker):
    told(tracker, tokens(100))
    assert tracker.available_at(P, "m", Demand(50)) == START
    assert tracker.available_at(P, "m", Demand(500)) == START + 600


def test_an_empty_key_wide_window_holds_back_every_model_it_covers(tracker):
    told(tracker, Metric(MetricKind.REQUESTS, Window.DAY, 50, 0, START + 90, scope=Scope.ACCOUNT))
    assert skip_of(tracker, model="other") == (
        SkipReason.REQUESTS_EXHAUSTED,
        START + 90,
        "requests per day exhausted",
    )


def test_a_window_resetting_now_leaves_untimed_429s_doubling(tracker, clock):
    told(tracker, Metric(MetricKind.REQUESTS, Window.MINUTE, 30, 0, START + 50))
    state = tracker.model_state("p", 0, "m")
    assert state is not None
    for episode in range(2):
        state.windows[(MetricKind.REQUESTS, Window.MINUTE)].reset_at = clock.now()
        late(tracker, Outcome.RATE_LIMITED)
        assert state.untimed_strikes == episode + 1
        clock.set(state.cooldown_until)
