"""Key-wide limits from a provider's key endpoint, fed into a key's state."""

from __future__ import annotations

from chain429.limits.account import feed, rolling
from chain429.limits.metric import KeyLimit, MetricKind, Scope, Source, Window
from chain429.limits.state import KeyState
from chain429.limits.window import WindowState
from tests.support.clock import FakeClock

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
NEXT_UTC_MIDNIGHT = 1_800_057_600.0
ACCOUNT = KeyLimit(Scope.ACCOUNT, Window.UNKNOWN, 10, 10.0)
FREE_DAY = KeyLimit(Scope.FREE_MODELS, Window.DAY, 50, 86_400.0)


def test_each_limit_becomes_a_full_local_window_of_its_scope() -> None:
    key = KeyState()
    assert feed(key, [ACCOUNT, FREE_DAY], NOW) == 2
    account = key.windows[(MetricKind.REQUESTS, Window.UNKNOWN, Scope.ACCOUNT)]
    day = key.windows[(MetricKind.REQUESTS, Window.DAY, Scope.FREE_MODELS)]
    for window, limit in ((account, 10), (day, 50)):
        assert (window.limit, window.remaining, window.reset_at) == (limit, limit, None)
        assert (window.source, window.updated_at, window.in_flight) == (Source.KEY_INFO, NOW, 0)
    account.start(NOW + 5)
    assert account.reset_at == NOW + 15
    day.start(NOW)
    assert day.reset_at == NEXT_UTC_MIDNIGHT


def test_reading_again_changes_the_limit_never_what_is_left() -> None:
    key = KeyState()
    feed(key, [ACCOUNT], NOW)
    window = key.windows[(MetricKind.REQUESTS, Window.UNKNOWN, Scope.ACCOUNT)]
    window.remaining = 3
    assert feed(key, [KeyLimit(Scope.ACCOUNT, Window.UNKNOWN, 20, 60.0)], NOW + 300) == 1
    assert (window.limit, window.remaining, window.updated_at) == (20, 3, NOW + 300)
    assert window.next_reset is not None and window.next_reset(NOW) == NOW + 60
    feed(key, [KeyLimit(Scope.ACCOUNT, Window.UNKNOWN, 2, 60.0)], NOW + 600)
    assert (window.limit, window.remaining) == (2, 2)
    window.remaining = None
    feed(key, [ACCOUNT], NOW + 900)
    assert window.remaining == 10


def test_a_window_that_headers_reported_is_left_alone() -> None:
    header = WindowState(
        MetricKind.REQUESTS, Window.UNKNOWN, 40, 7, NOW + 30, Source.HEADER, NOW - 1
    )
    key = KeyState()
    key.windows[(MetricKind.REQUESTS, Window.UNKNOWN, Scope.ACCOUNT)] = header
    assert feed(key, [ACCOUNT], NOW) == 0
    assert (header.limit, header.remaining, header.reset_at, header.source) == (
        40,
        7,
        NOW + 30,
        Source.HEADER,
    )


def test_a_window_left_alone_does_not_stop_the_limits_after_it() -> None:
    header = WindowState(
        MetricKind.REQUESTS, Window.UNKNOWN, 40, 7, NOW + 30, Source.HEADER, NOW - 1
    )
    key = KeyState()
    key.windows[(MetricKind.REQUESTS, Window.UNKNOWN, Scope.ACCOUNT)] = header
    assert feed(key, [ACCOUNT, FREE_DAY], NOW) == 1
    assert key.windows[(MetricKind.REQUESTS, Window.DAY, Scope.FREE_MODELS)].limit == 50


def test_nothing_to_feed_changes_nothing() -> None:
    key = KeyState()
    assert feed(key, [], NOW) == 0
    assert key.windows == {}


def test_rolling_resets_a_day_at_utc_midnight_and_others_one_period_on() -> None:
    assert rolling(FREE_DAY)(NOW) == NEXT_UTC_MIDNIGHT
    assert rolling(KeyLimit(Scope.FREE_MODELS, Window.MINUTE, 20, 60.0))(NOW) == NOW + 60


def test_a_day_on_a_stepped_clock_still_ends_at_the_wall_clocks_midnight() -> None:
    clock = FakeClock(NOW)
    clock.step_wall(-3600)  # the wall clock now says 07:00: midnight is an hour further off
    assert rolling(FREE_DAY, clock)(NOW) == NEXT_UTC_MIDNIGHT + 3600
    key = KeyState()
    feed(key, [FREE_DAY], NOW, clock)
    (window,) = key.windows.values()
    window.start(NOW)
    assert window.reset_at == NEXT_UTC_MIDNIGHT + 3600
