"""Admission never grants more than a window has left, whatever the interleaving."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chain429.limits.metric import LimitReport, Metric, MetricKind, Window
from chain429.limits.tracker import Demand, LimitTracker, Reservation, Skip, SkipReason, policy_from
from chain429.outcome import Outcome
from tests.support.clock import FakeClock
from tests.support.configs import build_config, entries

CONFIG = build_config(
    [
        {"id": "p", "type": "cerebras", "apiKey": "key-p-123456789"},
        {"id": "two", "type": "groq", "apiKeys": ["key-one-11111111", "key-two-22222222"]},
    ],
    {"c": entries(("p", "m"))},
)
P, TWO = CONFIG.providers


def taught(remaining: int, tokens: int | None = None) -> tuple[FakeClock, LimitTracker]:
    clock = FakeClock()
    tracker = LimitTracker(policy_from(CONFIG.settings), clock)
    first = tracker.admit(P, "m")
    assert isinstance(first, Reservation)
    metrics = [Metric(MetricKind.REQUESTS, Window.DAY, 1000, remaining, clock.now() + 60)]
    if tokens is not None:
        metrics.append(Metric(MetricKind.TOKENS, Window.MINUTE, 60_000, tokens, clock.now() + 60))
    tracker.observe(first, LimitReport(metrics=tuple(metrics)))
    tracker.release(first)
    return clock, tracker


def test_a_burst_of_fifty_against_ten_remaining_admits_ten():
    _, tracker = taught(remaining=10)
    results = [tracker.admit(P, "m") for _ in range(50)]
    granted = [r for r in results if isinstance(r, Reservation)]
    assert len(granted) == 10
    assert all(
        isinstance(r, Skip) and r.reason is SkipReason.REQUESTS_EXHAUSTED
        for r in results
        if not isinstance(r, Reservation)
    )


@settings(max_examples=200, deadline=None)
@given(
    remaining=st.integers(min_value=0, max_value=12),
    ops=st.lists(st.sampled_from(["admit", "release", "report"]), max_size=60),
    reported=st.lists(st.integers(min_value=0, max_value=12), max_size=60),
)
def test_never_more_in_flight_than_remaining(remaining, ops, reported):
    clock, tracker = taught(remaining)
    held: list[Reservation] = []
    values = iter(reported)
    for op in ops:
        if op == "admit":
            result = tracker.admit(P, "m")
            if isinstance(result, Reservation):
                held.append(result)
        elif op == "release" and held:
            tracker.release(held.pop(0))
        elif op == "report" and held:
            value = next(values, 0)
            metric = Metric(MetricKind.REQUESTS, Window.DAY, 1000, value, clock.now() + 60)
            tracker.observe(held[0], LimitReport(metrics=(metric,)))
        window = tracker.model_state("p", 0, "m").windows[(MetricKind.REQUESTS, Window.DAY)]
        assert window.remaining is not None
        assert window.in_flight <= max(window.remaining, 0) or window.in_flight <= len(held)
        if window.remaining - window.in_flight <= 0:
            assert isinstance(tracker.admit(P, "m"), Skip)


def test_token_estimate_and_cerebras_reservation_are_counted():
    _, tracker = taught(remaining=100, tokens=1000)
    assert isinstance(tracker.admit(P, "m", Demand(tokens=1500)), Skip)
    first = tracker.admit(P, "m", Demand(tokens=600))
    assert isinstance(first, Reservation)
    second = tracker.admit(P, "m", Demand(tokens=600))
    assert isinstance(second, Skip) and second.reason is SkipReason.TOKENS_EXHAUSTED
    tracker.release(first, used_tokens=100)
    assert isinstance(tracker.admit(P, "m", Demand(tokens=600)), Reservation)


def test_a_window_refills_when_its_reset_passes():
    clock, tracker = taught(remaining=0)
    skip = tracker.admit(P, "m")
    assert isinstance(skip, Skip) and skip.until == clock.now() + 60
    clock.advance(61)
    assert isinstance(tracker.admit(P, "m"), Reservation)


def test_each_key_has_its_own_state_and_admission_picks_one_with_headroom():
    clock = FakeClock()
    tracker = LimitTracker(policy_from(CONFIG.settings), clock)
    first = tracker.admit(TWO, "m")
    assert isinstance(first, Reservation) and first.key_index == 0
    empty = Metric(MetricKind.REQUESTS, Window.DAY, 10, 0, clock.now() + 60)
    tracker.observe(first, LimitReport(metrics=(empty,)))
    tracker.release(first)
    second = tracker.admit(TWO, "m")
    assert isinstance(second, Reservation) and second.key_index == 1
    assert second.key_label == "…2222"


def test_a_429_whose_reset_is_days_away_is_honoured_to_the_second():
    clock = FakeClock()
    tracker = LimitTracker(policy_from(CONFIG.settings), clock)
    reservation = tracker.admit(P, "m")
    assert isinstance(reservation, Reservation)
    three_days = clock.now() + 3 * 86_400 + 0.5
    tracker.record(reservation, Outcome.RATE_LIMITED, three_days)
    tracker.release(reservation)
    clock.advance(3 * 86_400)
    skip = tracker.admit(P, "m")
    assert isinstance(skip, Skip) and skip.until == three_days
    assert tracker.available_at(P, "m") == three_days
    clock.advance(0.5)
    assert isinstance(tracker.admit(P, "m"), Reservation)


def fresh() -> tuple[FakeClock, LimitTracker]:
    clock = FakeClock()
    return clock, LimitTracker(policy_from(CONFIG.settings), clock)


def requests(remaining: int, limit: int, reset_in: float, clock: FakeClock) -> LimitReport:
    metric = Metric(MetricKind.REQUESTS, Window.MINUTE, limit, remaining, clock.now() + reset_in)
    return LimitReport(metrics=(metric,))


def test_a_window_first_seen_counts_the_requests_already_in_flight():
    clock, tracker = fresh()
    early = [tracker.admit(P, "m") for _ in range(4)]
    assert all(isinstance(r, Reservation) for r in early)
    tracker.observe(early[0], requests(remaining=3, limit=5, reset_in=60, clock=clock))
    tracker.release(early[0])
    assert isinstance(tracker.admit(P, "m"), Skip), "3 left, 3 others still in flight"
    for r in early[1:]:
        tracker.release(r)
    window = tracker.model_state("p", 0, "m").windows[(MetricKind.REQUESTS, Window.MINUTE)]
    assert window.in_flight == 0 and window.remaining == 0


def test_a_stream_whose_headers_arrived_no_longer_holds_its_request():
    clock, tracker = fresh()
    first = tracker.admit(P, "m")
    assert isinstance(first, Reservation)
    tracker.observe(first, requests(remaining=2, limit=5, reset_in=60, clock=clock))
    tracker.release(first)
    streaming = tracker.admit(P, "m")
    assert isinstance(streaming, Reservation)
    tracker.observe(streaming, requests(remaining=1, limit=5, reset_in=59, clock=clock))
    other = tracker.admit(P, "m")
    assert isinstance(other, Reservation), "one left while the stream is still relayed"
    assert isinstance(tracker.admit(P, "m"), Skip)
    tracker.release(streaming)
    window = tracker.model_state("p", 0, "m").windows[(MetricKind.REQUESTS, Window.MINUTE)]
    assert window.in_flight == 1 and window.remaining == 1


def test_a_whole_second_retry_after_yields_to_the_exact_reset():
    clock, tracker = fresh()
    r = tracker.admit(P, "m")
    assert isinstance(r, Reservation)
    tracker.observe(r, requests(remaining=0, limit=5, reset_in=4.38, clock=clock))
    tracker.record(r, Outcome.RATE_LIMITED, clock.now() + 5)
    tracker.release(r)
    assert tracker.available_at(P, "m") == clock.now() + 4.38


def test_a_provider_window_keeps_rolling_after_its_reset_without_new_headers():
    clock, tracker = fresh()
    r = tracker.admit(P, "m")
    assert isinstance(r, Reservation)
    tracker.observe(r, requests(remaining=0, limit=2, reset_in=10, clock=clock))
    tracker.release(r)
    for _ in range(3):
        clock.advance(61)
        for _ in range(2):
            held = tracker.admit(P, "m")
            assert isinstance(held, Reservation)
            tracker.release(held)
        skip = tracker.admit(P, "m")
        assert isinstance(skip, Skip) and skip.until is not None and skip.until > clock.now()


def test_a_limit_raised_between_two_windows_is_used_whole():
    clock, tracker = fresh()
    for remaining in range(4, -1, -1):
        r = tracker.admit(P, "m")
        assert isinstance(r, Reservation)
        tracker.observe(r, requests(remaining=remaining, limit=5, reset_in=60, clock=clock))
        tracker.release(r)
    assert isinstance(tracker.admit(P, "m"), Skip)
    clock.advance(61)
    first = tracker.admit(P, "m")
    assert isinstance(first, Reservation)
    tracker.observe(first, requests(remaining=9, limit=10, reset_in=60, clock=clock))
    tracker.release(first)
    burst = [tracker.admit(P, "m") for _ in range(20)]
    assert sum(isinstance(r, Reservation) for r in burst) == 9


def test_a_request_may_draw_exactly_the_tokens_left_and_not_one_more():
    _, tracker = taught(remaining=100, tokens=1000)
    held = tracker.admit(P, "m", Demand(tokens=400))
    assert isinstance(held, Reservation)
    too_many = tracker.admit(P, "m", Demand(tokens=601))
    assert isinstance(too_many, Skip) and too_many.reason is SkipReason.TOKENS_EXHAUSTED
    assert isinstance(tracker.admit(P, "m", Demand(tokens=600)), Reservation)
