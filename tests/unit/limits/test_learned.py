"""Learning a limit from answers alone: the count before the first 429, the window's length from
the retry time or from being served again, and letting it go."""

from __future__ import annotations

import pytest

from chain429.limits import learned
from chain429.limits.learned import (
    LEARNED_KEY,
    MAX_PERIOD_S,
    RAISE_CHECK_WINDOWS,
    Learning,
    forget,
    learns,
    refused,
    restore,
    served,
    to_data,
)
from chain429.limits.metric import MetricKind, Source, Window
from chain429.limits.window import RESET_MARGIN_S, WindowState

T0 = 1_800_000_000.0
MARGIN = RESET_MARGIN_S


def window(source: Source = Source.HEADER) -> WindowState:
    return WindowState(MetricKind.REQUESTS, Window.MINUTE, 10, 5, T0 + 60, source, T0)


def serve_run(learning: Learning, windows: dict, times: list[float]) -> None:
    """Requests admitted and answered at each of `times`, served, one at a time."""
    for at in times:
        served(learning, windows, at, at, 0)


def learned_after_retry(limit: int = 4, period: float = 6.0) -> tuple[Learning, dict]:
    """`limit` served from T0 at one a second, then a 429 naming a retry at T0 + period."""
    learning, windows = Learning(), {}
    serve_run(learning, windows, [T0 + i for i in range(limit)])
    refused(learning, windows, T0 + limit, T0 + period, T0 + limit, 0)
    return learning, windows


def test_only_entries_whose_windows_all_were_learned_learn() -> None:
    assert learns({}, key_windows=False)
    assert not learns({}, key_windows=True)
    ours = window(Source.LEARNED)
    assert learns({LEARNED_KEY: ours}, key_windows=False)
    for other in (Source.HEADER, Source.BODY, Source.MANUAL, Source.KEY_INFO):
        assert not learns({LEARNED_KEY: ours, "x": window(other)}, key_windows=False)


def test_requests_served_are_counted_from_the_first_one() -> None:
    learning, windows = Learning(), {}
    serve_run(learning, windows, [T0 + 1, T0 + 2, T0 + 3])
    assert (learning.start, learning.served, learning.refused_at) == (T0 + 1, 3, None)
    assert windows == {}


def test_a_429_naming_its_retry_time_teaches_the_limit_and_the_window_at_once() -> None:
    learning, windows = learned_after_retry(limit=4, period=6.0)
    assert learning.limit == 4
    assert learning.period_s == pytest.approx(6.0 + MARGIN)
    ours = windows[LEARNED_KEY]
    assert (ours.kind, ours.window, ours.source) == (
        MetricKind.REQUESTS,
        Window.UNKNOWN,
        Source.LEARNED,
    )
    assert (ours.limit, ours.remaining, ours.in_flight) == (4, 0, 0)
    assert ours.reset_at == pytest.approx(T0 + 6.0 + MARGIN)
    assert ours.updated_at == T0 + 4
    assert ours.next_reset is not None
    assert ours.next_reset(T0 + 100) == pytest.approx(T0 + 106 + MARGIN)
    assert (learning.start, learning.served, learning.refused_at) == (T0, 4, None)


def test_a_bare_429_waits_for_the_provider_to_serve_again() -> None:
    learning, windows = Learning(), {}
    serve_run(learning, windows, [T0, T0 + 1, T0 + 2])
    refused(learning, windows, T0 + 3, None, T0 + 3.5, 0)
    assert learning.refused_at == T0 + 3.5
    assert windows == {}
    served(learning, windows, T0 + 3.2, T0 + 3.6, 0)  # sent before the 429 came back
    assert learning.served == 4
    refused(learning, windows, T0 + 3.4, None, T0 + 3.8, 0)  # another of the same window
    assert learning.refused_at == T0 + 3.5
    served(learning, windows, T0 + 9.0, T0 + 9.3, 2)
    ours = windows[LEARNED_KEY]
    assert learning.limit == 4
    assert learning.period_s == pytest.approx(9.3 - 0 + MARGIN)
    assert ours.limit == 4
    assert ours.remaining == 4 - 1 - 2  # this one, and the two still out
    assert ours.reset_at == pytest.approx(T0 + 9.0 + 9.3 + MARGIN)
    assert (learning.start, learning.served, learning.refused_at) == (T0 + 9.0, 1, None)


def test_a_429_before_anything_was_served_teaches_nothing() -> None:
    learning, windows = Learning(), {}
    refused(learning, windows, T0, T0 + 30, T0, 0)
    refused(learning, windows, T0, None, T0, 0)
    assert learning == Learning()
    assert windows == {}


def test_windows_longer_than_an_hour_are_not_learned() -> None:
    learning, windows = Learning(), {}
    serve_run(learning, windows, [T0])
    refused(learning, windows, T0 + 1, T0 + MAX_PERIOD_S + 1, T0 + 1, 0)
    assert windows == {}
    assert learning == Learning()
    serve_run(learning, windows, [T0 + 2])
    refused(learning, windows, T0 + 3, T0 + 2 + MAX_PERIOD_S, T0 + 3, 0)
    assert windows[LEARNED_KEY].limit == 1


def test_a_count_that_runs_longer_than_an_hour_starts_over() -> None:
    learning, windows = Learning(), {}
    serve_run(learning, windows, [T0, T0 + 1])
    serve_run(learning, windows, [T0 + MAX_PERIOD_S])
    assert (learning.start, learning.served) == (T0, 3)
    serve_run(learning, windows, [T0 + MAX_PERIOD_S + 0.5])
    assert (learning.start, learning.served) == (T0 + MAX_PERIOD_S + 0.5, 1)


def test_the_learned_window_counts_what_it_serves_and_rolls_over() -> None:
    learning, windows = learned_after_retry(limit=4, period=6.0)
    ours = windows[LEARNED_KEY]
    later = T0 + 20
    ours.refresh(later)  # the next window opens with its first request
    served(learning, windows, later, later + 0.3, 0)
    assert (learning.start, learning.served) == (pytest.approx(later), 1)
    served(learning, windows, T0 + 1, later + 0.4, 0)  # admitted in an old window: not counted
    assert learning.served == 1


def test_a_refusal_below_the_learned_limit_lets_it_go() -> None:
    learning, windows = learned_after_retry(limit=4, period=6.0)
    ours = windows[LEARNED_KEY]
    later = T0 + 20
    ours.refresh(later)
    served(learning, windows, later, later, 0)
    refused(learning, windows, later + 1, later + 5, later + 1, 1)  # 1 served + 1 out < 4
    assert LEARNED_KEY not in windows
    assert learning == Learning()


def test_a_refusal_that_requests_in_flight_explain_keeps_the_limit() -> None:
    learning, windows = learned_after_retry(limit=4, period=6.0)
    ours = windows[LEARNED_KEY]
    later = T0 + 20
    ours.refresh(later)
    served(learning, windows, later, later, 0)
    refused(learning, windows, later + 1, later + 5, later + 1, 3)  # 1 served + 3 out = 4
    assert windows[LEARNED_KEY] is ours
    assert learning.limit == 4
    refused(learning, windows, T0 + 1, None, later + 2, 0)  # of an old window: ignored
    assert windows[LEARNED_KEY] is ours


def use_up(learning: Learning, windows: dict, count: int, start: float, period: float) -> float:
    """`count` windows used up whole, one after another; returns when the next one may open."""
    ours = windows[LEARNED_KEY]
    at = start
    for _ in range(count):
        ours.refresh(at)
        for i in range(learning.limit or 0):
            ours.remaining = (ours.remaining or 0) - 1
            served(learning, windows, at + i * 0.01, at + i * 0.01, 0)
        at += period + 1
    return at


def test_windows_used_up_lead_to_one_request_past_the_limit() -> None:
    learning, windows = learned_after_retry(limit=4, period=6.0)
    period = learning.period_s or 0
    ours = windows[LEARNED_KEY]
    use_up(learning, windows, RAISE_CHECK_WINDOWS - 1, T0 + 10, period)
    assert (learning.full_windows, learning.trial, ours.limit) == (
        RAISE_CHECK_WINDOWS - 1,
        False,
        4,
    )
    use_up(learning, windows, 1, T0 + 200, period)
    assert (learning.full_windows, learning.trial) == (0, True)
    assert (ours.limit, ours.remaining) == (5, 1)


def test_served_past_the_limit_means_it_was_raised() -> None:
    learning, windows = learned_after_retry(limit=4, period=6.0)
    period = learning.period_s or 0
    at = use_up(learning, windows, RAISE_CHECK_WINDOWS, T0 + 10, period)
    opened = at - period - 1
    served(learning, windows, opened + 1, opened + 1, 0)
    assert LEARNED_KEY not in windows
    assert (learning.limit, learning.start, learning.served) == (None, opened, 5)
    refused(learning, windows, opened + 2, opened + 7, opened + 2, 0)
    assert windows[LEARNED_KEY].limit == 5


def test_refused_past_the_limit_means_it_stands() -> None:
    learning, windows = learned_after_retry(limit=4, period=6.0)
    period = learning.period_s or 0
    at = use_up(learning, windows, RAISE_CHECK_WINDOWS, T0 + 10, period)
    opened = at - period - 1
    ours = windows[LEARNED_KEY]
    refused(learning, windows, opened + 1, None, opened + 1, 0)
    assert windows[LEARNED_KEY] is ours
    assert (ours.limit, ours.remaining) == (4, 0)
    assert (learning.limit, learning.trial, learning.full_windows) == (4, False, 0)


def test_forget_drops_only_a_learned_window() -> None:
    learning, windows = learned_after_retry()
    forget(learning, windows)
    assert windows == {} and learning == Learning()
    theirs = window(Source.HEADER)
    windows = {LEARNED_KEY: theirs}
    forget(Learning(limit=3, period_s=5.0), windows)
    assert windows == {LEARNED_KEY: theirs}


def test_a_learned_limit_is_saved_and_restored_without_its_window() -> None:
    learning, _ = learned_after_retry(limit=4, period=6.0)
    data = to_data(learning)
    assert data == {"limit": 4, "periodS": pytest.approx(6.0 + MARGIN)}
    assert to_data(Learning()) is None
    back, windows = Learning(), {}
    assert restore(back, windows, data, T0 + 1000)
    assert (back.limit, back.period_s, back.start, back.served) == (4, data["periodS"], None, 0)
    fresh = windows[LEARNED_KEY]
    assert (fresh.limit, fresh.remaining, fresh.reset_at, fresh.source, fresh.updated_at) == (
        4,
        4,
        None,
        Source.LEARNED,
        T0 + 1000,
    )
    fresh.start(T0 + 2000)
    assert fresh.reset_at == pytest.approx(T0 + 2000 + 6.0 + MARGIN)


@pytest.mark.parametrize(("saved", "remaining", "served_count"), [(1, 1, 3), (4, 4, 0), (5, 4, 0)])
def test_a_restored_live_window_keeps_what_it_had_used(
    saved: int, remaining: int, served_count: int
) -> None:
    restored = WindowState(
        MetricKind.REQUESTS, Window.UNKNOWN, 5, saved, T0 + 4, Source.LEARNED, T0
    )
    learning, windows = Learning(), {LEARNED_KEY: restored}
    assert restore(learning, windows, {"limit": 4, "periodS": 6}, T0)
    assert windows[LEARNED_KEY] is restored
    assert (restored.limit, restored.remaining) == (4, remaining)
    assert (learning.start, learning.served) == (T0 - 2, served_count)
    assert restored.next_reset is not None and restored.next_reset(T0) == T0 + 6


@pytest.mark.parametrize(
    "data",
    [
        {"limit": 1, "periodS": 6},
        {"limit": 4, "periodS": 0.5},
        {"limit": 4, "periodS": MAX_PERIOD_S},
        {"limit": 4, "periodS": MAX_PERIOD_S + MARGIN},
    ],
)
def test_any_limit_and_period_a_snapshot_can_hold_is_restored(data: dict) -> None:
    learning, windows = Learning(), {}
    assert restore(learning, windows, data, T0)
    assert (learning.limit, learning.period_s) == (data["limit"], data["periodS"])


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"limit": 4},
        {"periodS": 6},
        {"limit": 0, "periodS": 6},
        {"limit": True, "periodS": 6},
        {"limit": 4.0, "periodS": 6},
        {"limit": 4, "periodS": 0},
        {"limit": 4, "periodS": False},
        {"limit": 4, "periodS": "6"},
        {"limit": 4, "periodS": MAX_PERIOD_S + 1},
    ],
)
def test_a_saved_limit_that_does_not_read_drops_a_learned_window(data: object) -> None:
    stale = WindowState(MetricKind.REQUESTS, Window.UNKNOWN, 5, 1, T0 + 4, Source.LEARNED, T0)
    learning, windows = Learning(limit=9, period_s=3.0), {LEARNED_KEY: stale}
    assert not restore(learning, windows, data, T0)
    assert windows == {} and learning == Learning()


def test_every_is_one_period_after_the_opening() -> None:
    assert learned.every(2.5)(T0) == T0 + 2.5


def test_a_request_admitted_as_the_429_came_back_is_the_provider_serving_again() -> None:
    learning, windows = Learning(), {}
    serve_run(learning, windows, [T0, T0 + 1])
    refused(learning, windows, T0 + 2, None, T0 + 2.5, 0)
    served(learning, windows, T0 + 2.5, T0 + 2.8, 0)
    ours = windows[LEARNED_KEY]
    assert (ours.limit, ours.remaining, ours.updated_at) == (2, 1, T0 + 2.8)
    assert ours.reset_at == pytest.approx(T0 + 2.5 + 2.8 + MARGIN)


@pytest.mark.parametrize(("span", "learns_it"), [(0.0, False), (0.5, True), (MAX_PERIOD_S, True)])
def test_windows_of_any_length_up_to_an_hour_are_learned(span: float, learns_it: bool) -> None:
    learning, windows = Learning(), {}
    serve_run(learning, windows, [T0])
    refused(learning, windows, T0, T0 + span, T0, 0)
    assert (LEARNED_KEY in windows) is learns_it
    if learns_it:
        assert learning.period_s == pytest.approx(span + MARGIN)


def test_a_refusal_at_the_very_opening_of_a_window_counts_in_it() -> None:
    learning, windows = learned_after_retry(limit=4, period=6.0)
    ours = windows[LEARNED_KEY]
    later = T0 + 20
    ours.refresh(later)
    refused(learning, windows, later, later + 5, later, 0)
    assert LEARNED_KEY not in windows, "refused below the limit at the window's first request"


def test_a_refusal_at_the_limit_outside_a_check_changes_nothing() -> None:
    learning, windows = learned_after_retry(limit=4, period=6.0)
    ours = windows[LEARNED_KEY]
    ours.refresh(T0 + 20)
    for i in range(4):
        served(learning, windows, T0 + 20 + i, T0 + 20 + i, 0)
    ours.remaining = 2
    refused(learning, windows, T0 + 25, None, T0 + 25, 0)
    assert windows[LEARNED_KEY] is ours
    assert (ours.limit, ours.remaining, learning.trial) == (4, 2, False)


def test_answers_before_the_learned_window_opened_are_not_counted() -> None:
    learning, windows = Learning(), {}
    assert restore(learning, windows, {"limit": 4, "periodS": 6}, T0)
    served(learning, windows, T0, T0, 0)
    refused(learning, windows, T0, None, T0, 0)
    assert windows[LEARNED_KEY].remaining == 4
    assert (learning.start, learning.served, learning.limit) == (None, 0, 4)
