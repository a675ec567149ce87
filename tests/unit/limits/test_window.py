"""One window on its own: a figure from an answer is a measurement, a refill is an assumption."""

from __future__ import annotations

from chain429.limits.metric import Metric, MetricKind, Source, Window
from chain429.limits.window import SAME_WINDOW_SLACK_S, WindowState, header_window

START = 1_800_000_000.0


def said(limit: int, remaining: int, reset_at: float) -> Metric:
    return Metric(MetricKind.REQUESTS, Window.MINUTE, limit, remaining, reset_at)


def emptied_then_refilled() -> WindowState:
    """A window that said 5 per minute, ran dry, and whose reset has since passed."""
    window = header_window(said(5, 0, START + 60), START)
    window.refresh(START + 61)
    assert (window.limit, window.remaining) == (5, 5)
    return window


def test_the_first_answer_after_a_refill_replaces_the_assumed_figure():
    window = emptied_then_refilled()
    window.observe(said(10, 9, START + 121), START + 61.5)
    assert (window.limit, window.remaining) == (10, 9)
    assert window.headroom() == 9


def test_a_measurement_that_says_less_than_the_assumption_is_taken_too():
    window = emptied_then_refilled()
    window.observe(said(5, 2, START + 121), START + 61.5)
    assert window.remaining == 2


def test_holds_in_flight_count_against_the_measured_figure():
    window = emptied_then_refilled()
    window.in_flight = 3
    window.observe(said(10, 9, START + 121), START + 61.5)
    assert window.headroom() == 6


def test_between_two_answers_of_one_window_remaining_only_goes_down():
    window = emptied_then_refilled()
    window.observe(said(10, 6, START + 121), START + 61.5)
    window.observe(said(10, 8, START + 121), START + 61.6)  # an older answer, arriving late
    assert window.remaining == 6


def test_local_spending_after_a_measurement_still_bounds_the_next_answer():
    window = emptied_then_refilled()
    window.observe(said(10, 9, START + 121), START + 61.5)
    window.spend(4)
    window.observe(said(10, 8, START + 121), START + 62)
    assert window.remaining == 5


def test_a_late_answer_saying_more_is_left_does_not_raise_a_measured_figure():
    window = header_window(said(10, 4, START + 60), START)
    window.observe(said(10, 7, START + 60), START + 0.2)  # sent earlier, arrived later
    assert window.remaining == 4


def test_a_reset_that_drifted_by_less_than_the_slack_is_the_same_window():
    for drift in (SAME_WINDOW_SLACK_S / 2, -SAME_WINDOW_SLACK_S / 2):
        window = header_window(said(10, 4, START + 60), START)
        window.observe(said(10, 7, START + 60 + drift), START + 0.2)
        assert window.remaining == 4, drift


def test_a_reset_later_by_more_than_the_slack_opens_a_new_window():
    window = header_window(said(10, 0, START + 60), START)
    window.observe(said(10, 9, START + 60 + 2 * SAME_WINDOW_SLACK_S), START + 0.2)
    assert window.remaining == 9


def test_the_same_window_reaches_exactly_the_slack_past_the_reset():
    window = header_window(said(10, 4, START + 60), START)
    window.observe(said(10, 7, START + 60 + SAME_WINDOW_SLACK_S), START + 0.2)
    assert window.remaining == 4


def test_a_window_with_one_left_and_no_reset_time_stays_without_one():
    window = header_window(said(10, 1, None), START)
    assert window.reset_at is None


def test_a_providers_window_past_its_reset_refills_for_its_own_length():
    window = header_window(Metric(MetricKind.REQUESTS, Window.HOUR, 50, 0, START + 10), START)
    window.refresh(START + 10)
    assert (window.remaining, window.reset_at, window.updated_at) == (50, START + 3610, START + 10)


def test_a_local_window_refills_to_its_own_next_reset_and_opens_only_once():
    window = WindowState(
        MetricKind.REQUESTS,
        Window.MINUTE,
        5,
        5,
        None,
        Source.MANUAL,
        START,
        next_reset=lambda now: now + 7,
    )
    window.start(START)
    window.start(START + 3)
    assert window.reset_at == START + 7
    window.refresh(START + 7)
    assert window.reset_at == START + 14
