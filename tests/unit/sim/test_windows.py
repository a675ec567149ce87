from __future__ import annotations

import pytest

from chain429.sim.config import SimProviderConfig
from chain429.sim.windows import DAY_SECONDS, FixedWindow, MetricKind, ProviderWindows
from tests.support.clock import FakeClock

START = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def test_fixed_window_opens_at_first_use_and_resets_after_its_length() -> None:
    window = FixedWindow()
    clock = FakeClock(START)
    fresh = window.metric(5, 60.0, clock.now())
    assert (fresh.remaining, fresh.reset_at) == (5, START + 60.0)

    window.consume(2, 60.0, clock.now())
    clock.advance(20)
    used = window.metric(5, 60.0, clock.now())
    assert (used.remaining, used.reset_in(clock.now())) == (3, 40.0)

    clock.advance(40)
    assert window.metric(5, 60.0, clock.now()).remaining == 5


def test_aligned_window_resets_at_midnight_utc() -> None:
    window = FixedWindow(aligned=True)
    window.consume(1, DAY_SECONDS, START)
    metric = window.metric(10, DAY_SECONDS, START)
    midnight = (START // DAY_SECONDS + 1) * DAY_SECONDS
    assert metric.reset_at == midnight
    assert window.metric(10, DAY_SECONDS, midnight).remaining == 10


def test_requests_beyond_the_window_are_rejected_until_it_resets() -> None:
    config = SimProviderConfig(name="p", requests_per_window=2, window_seconds=60)
    windows = ProviderWindows()
    clock = FakeClock(START)
    for _ in range(2):
        assert windows.check(config, clock.now(), 10) is None
        windows.commit(config, clock.now(), 10)
    clock.advance(15)
    rejection = windows.check(config, clock.now(), 10)
    assert rejection is not None
    assert rejection.kind is MetricKind.REQUESTS
    assert rejection.retry_after == pytest.approx(45.0)
    clock.advance(45)
    assert windows.check(config, clock.now(), 10) is None


def test_token_window_rejects_a_request_costing_more_than_is_left() -> None:
    config = SimProviderConfig(name="p", tokens_per_window=100)
    windows = ProviderWindows()
    windows.commit(config, START, 80)
    assert windows.check(config, START, 20) is None
    rejection = windows.check(config, START, 21)
    assert rejection is not None
    assert (rejection.kind, rejection.requested, rejection.metric.remaining) == (
        MetricKind.TOKENS,
        21,
        20,
    )


def test_daily_cap_is_checked_first() -> None:
    config = SimProviderConfig(name="p", requests_per_window=1, requests_per_day=1)
    windows = ProviderWindows()
    windows.commit(config, START, 1)
    rejection = windows.check(config, START, 1)
    assert rejection is not None and rejection.kind is MetricKind.DAY


def test_state_reports_only_configured_limits_and_remaining_after_use() -> None:
    config = SimProviderConfig(name="p", requests_per_window=10, tokens_per_window=500)
    windows = ProviderWindows()
    windows.commit(config, START, 120)
    state = windows.state(config, START + 1)
    assert state.day is None
    assert state.requests is not None and state.requests.remaining == 9
    assert state.tokens is not None and state.tokens.remaining == 380
    assert state.as_dict()["requests"] == {
        "limit": 10,
        "remaining": 9,
        "reset_at": START + 60,
        "reset_in": 59.0,
        "window_seconds": 60.0,
    }


def test_limits_changed_at_run_time_apply_to_the_current_usage() -> None:
    windows = ProviderWindows()
    windows.commit(SimProviderConfig(name="p", requests_per_window=10), START, 1)
    tighter = SimProviderConfig(name="p", requests_per_window=1)
    assert windows.check(tighter, START, 1) is not None


def test_reset_forgets_usage() -> None:
    config = SimProviderConfig(name="p", requests_per_window=1)
    windows = ProviderWindows()
    windows.commit(config, START, 1)
    windows.reset()
    assert windows.check(config, START, 1) is None
