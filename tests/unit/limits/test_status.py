"""What the status APIs show of the limit state, per chain entry and key: statuses, cooldowns,
reasons and windows, read without changing anything."""

from __future__ import annotations

import pytest

from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Source, Window
from chain429.limits.status import (
    EntryView,
    WindowView,
    direct_entry_views,
    entry_views,
    window_view,
)
from chain429.limits.tracker import LimitTracker, ProviderTraits, Reservation, policy_from
from chain429.limits.window import WindowState
from chain429.outcome import Outcome
from tests.support.clock import START, FakeClock
from tests.support.configs import build_config, entries

KEY_ONE, KEY_TWO = "key-one-11111111", "key-two-22222222"
CONFIG = build_config(
    [{"id": "p", "type": "groq", "apiKeys": [KEY_ONE, KEY_TWO]}],
    {"c": entries(("p", "m"), ("p", "x:free")), "again": entries(("p", "m"), ("p", "n"))},
)
P = CONFIG.providers[0]


@pytest.fixture
def tracker(clock) -> LimitTracker:
    return LimitTracker(policy_from(CONFIG.settings), clock)


def admitted(tracker: LimitTracker, model: str = "m") -> Reservation:
    result = tracker.admit(P, model)
    assert isinstance(result, Reservation), result
    return result


def ended(tracker: LimitTracker, outcome: Outcome, retry_at=None, reason="", scope=Scope.MODEL):
    reservation = admitted(tracker)
    tracker.release(reservation)
    tracker.record(reservation, outcome, retry_at, reason, scope)


def told(tracker: LimitTracker, *metrics: Metric, model: str = "m") -> None:
    reservation = admitted(tracker, model)
    tracker.observe(reservation, LimitReport(metrics=metrics))
    tracker.release(reservation)


def view(tracker: LimitTracker, model: str = "m", key: int = 0) -> EntryView:
    views = {(v.model, v.key_label): v for v in entry_views(CONFIG, tracker, START)}
    return views[(model, ("…1111", "…2222")[key])]


def available(model: str = "m", key_label: str = "…1111") -> EntryView:
    return EntryView("p", model, key_label, "available", None, None, None, 0, ())


def test_every_chain_entry_is_shown_once_per_key_in_chain_order(tracker):
    assert entry_views(CONFIG, tracker, START) == [
        available("m", "…1111"),
        available("m", "…2222"),
        available("x:free", "…1111"),
        available("x:free", "…2222"),
        available("n", "…1111"),
        available("n", "…2222"),
    ]
    assert list(tracker.model_states()) == [], "reading created no state"


def test_a_rate_limited_entry_is_exhausted_until_its_reset(tracker):
    ended(tracker, Outcome.RATE_LIMITED, START + 30)
    assert view(tracker) == EntryView(
        "p", "m", "…1111", "exhausted", START + 30, "rate limited (429)", None, 0, ()
    )
    assert view(tracker, key=1) == available("m", "…2222")
    assert view(tracker, "x:free") == available("x:free")


def test_an_entry_sitting_out_a_penalty_is_failing(tracker):
    ended(tracker, Outcome.SERVER_ERROR, reason="HTTP 503")
    assert view(tracker) == EntryView(
        "p", "m", "…1111", "failing", START + 5, "HTTP 503", None, 0, ()
    )


def test_a_cooldown_that_has_ended_shows_nothing(tracker, clock):
    ended(tracker, Outcome.SERVER_ERROR, reason="HTTP 503")
    clock.advance(5)
    assert entry_views(CONFIG, tracker, clock.now())[0] == available()


def test_a_rejected_key_is_exhausted_for_every_model_with_its_reason(tracker):
    ended(tracker, Outcome.AUTH_FAILED)
    for model in ("m", "x:free"):
        assert view(tracker, model) == EntryView(
            "p",
            model,
            "…1111",
            "exhausted",
            None,
            "key rejected (401/403)",
            "key rejected (401/403)",
            0,
            (),
        )


def test_a_missing_model_is_exhausted_for_that_model_only(tracker):
    ended(tracker, Outcome.NOT_FOUND)
    disabled = "model not found (404)"
    assert view(tracker) == EntryView(
        "p", "m", "…1111", "exhausted", None, disabled, disabled, 0, ()
    )
    assert view(tracker, "x:free") == available("x:free")


def test_a_key_out_of_credit_is_exhausted_until_its_credit_returns(tracker):
    ended(tracker, Outcome.PAYMENT_REQUIRED)
    until = START + 3600
    assert view(tracker, "x:free") == EntryView(
        "p", "x:free", "…1111", "exhausted", until, None, None, 0, ()
    )


def test_an_account_wide_429_shows_on_every_model_of_the_key(tracker):
    ended(tracker, Outcome.RATE_LIMITED, START + 30, "account limit", Scope.ACCOUNT)
    assert view(tracker, "x:free") == EntryView(
        "p", "x:free", "…1111", "exhausted", START + 30, "account limit", None, 0, ()
    )


def test_a_free_models_429_shows_on_free_models_only(tracker):
    ended(tracker, Outcome.RATE_LIMITED, START + 30, "free-models-per-day", Scope.FREE_MODELS)
    assert view(tracker, "x:free") == EntryView(
        "p", "x:free", "…1111", "exhausted", START + 30, "free-models-per-day", None, 0, ()
    )
    assert view(tracker, "m").status == "exhausted", "the 429 came on m itself"
    assert view(tracker, "m", key=1) == available("m", "…2222")


def test_a_penalty_under_a_longer_key_cooldown_shows_the_key_cooldown(tracker):
    ended(tracker, Outcome.RATE_LIMITED, START + 30, "account limit", Scope.ACCOUNT)
    state = tracker.ensure_model_state("p", 0, "x:free")
    state.cooldown_until, state.penalised, state.reason = START + 5, True, "HTTP 503"
    assert view(tracker, "x:free") == EntryView(
        "p", "x:free", "…1111", "exhausted", START + 30, "HTTP 503", None, 0, ()
    )


MINUTE = Metric(MetricKind.REQUESTS, Window.MINUTE, 30, 12, START + 40, raw=(("x-r", "12"),))


def test_windows_with_room_are_tracking_and_shown_as_reported(tracker):
    told(tracker, MINUTE)
    assert view(tracker) == EntryView(
        "p",
        "m",
        "…1111",
        "tracking",
        None,
        None,
        None,
        0,
        (
            WindowView(
                "requests", "minute", "model", 30, 12, 0, START + 40, "header", START, MINUTE.raw
            ),
        ),
    )


def test_a_requests_window_with_nothing_left_is_exhausted(tracker):
    told(tracker, Metric(MetricKind.REQUESTS, Window.DAY, 100, 1, START + 600))
    held = admitted(tracker)
    shown = view(tracker)
    assert (shown.status, shown.reason, shown.cooldown_until) == (
        "exhausted",
        "quota exhausted",
        None,
    )
    assert shown.in_flight == 1
    assert shown.windows[0].in_flight == 1
    tracker.release(held)


def test_a_tokens_window_with_nothing_left_is_only_tracking(tracker):
    told(tracker, Metric(MetricKind.TOKENS, Window.MINUTE, 1000, 0, START + 60))
    assert (view(tracker).status, view(tracker).reason) == ("tracking", None)


def test_key_wide_windows_show_on_the_models_they_limit(tracker):
    account = Metric(MetricKind.REQUESTS, Window.DAY, 50, 7, START + 60, scope=Scope.ACCOUNT)
    free = Metric(MetricKind.REQUESTS, Window.DAY, 20, 3, START + 60, scope=Scope.FREE_MODELS)
    told(tracker, account, free)
    scopes = [w.scope for w in view(tracker, "x:free").windows]
    assert scopes == ["account", "free-models"]
    assert [w.scope for w in view(tracker, "m").windows] == ["account"]
    assert view(tracker, "m", key=1).windows == ()


def test_keys_sharing_limits_show_the_same_cooldown(clock):
    traits = {"p": ProviderTraits(keys_share_limits=True)}
    tracker = LimitTracker(policy_from(CONFIG.settings), clock, traits)
    ended(tracker, Outcome.RATE_LIMITED, START + 30, "account limit", Scope.ACCOUNT)
    assert view(tracker, "x:free", key=1).cooldown_until == START + 30
    assert not isinstance(tracker.admit(P, "x:free"), Reservation), "neither key may serve"


def test_a_window_past_its_reset_is_shown_refilled_and_left_untouched(tracker, clock):
    told(tracker, MINUTE)
    clock.advance(41)
    [window] = entry_views(CONFIG, tracker, clock.now())[0].windows
    assert (window.remaining, window.reset_at) == (30, None)
    state = tracker.model_state("p", 0, "m")
    assert state is not None
    stored = state.windows[(MetricKind.REQUESTS, Window.MINUTE)]
    assert (stored.remaining, stored.reset_at) == (12, START + 40)


def test_a_window_view_at_its_exact_reset_is_refilled():
    window = WindowState(
        MetricKind.TOKENS, Window.DAY, 100, 4, START, Source.MANUAL, START - 9, in_flight=2
    )
    assert window_view(window, "account", START) == WindowView(
        "tokens", "day", "account", 100, 100, 2, None, "manual", START - 9, ()
    )
    assert window_view(window, "account", START - 1).remaining == 4


def test_models_reached_directly_are_listed_after_the_chains(tracker):
    assert direct_entry_views(CONFIG, tracker, START) == []
    tracker.ensure_model_state("gone", 0, "other")
    told(tracker, MINUTE, model="direct-model")
    admitted(tracker, "m")
    views = direct_entry_views(CONFIG, tracker, START)
    assert [(v.model, v.key_label, v.status) for v in views] == [
        ("direct-model", "…1111", "tracking"),
        ("direct-model", "…2222", "available"),
    ]


def test_a_rate_limit_ending_now_shows_the_entry_available(tracker):
    ended(tracker, Outcome.RATE_LIMITED, START + 30)
    assert entry_views(CONFIG, tracker, START + 30)[0] == available()


def test_one_request_left_is_still_tracking(tracker):
    told(tracker, Metric(MetricKind.REQUESTS, Window.MINUTE, 30, 1, START + 40))
    assert view(tracker).status == "tracking"


def test_a_short_key_is_shown_by_its_position():
    config = build_config(
        [{"id": "p", "type": "groq", "apiKeys": ["ab12", "cd34"]}], {"c": entries(("p", "m"))}
    )
    tracker = LimitTracker(policy_from(config.settings), FakeClock(START))
    labels = [v.key_label for v in entry_views(config, tracker, START)]
    assert labels == ["key#1", "key#2"]
