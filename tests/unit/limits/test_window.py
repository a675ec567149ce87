"""One window on its own: a figure from an answer is a measurement, a refill is an assumption."""

from __future__ import annotations

from chain429.limits.metric import Metric, MetricKind, Window
from chain429.limits.window import WindowState, header_window

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
