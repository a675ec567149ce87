"""Time as an injected dependency, so limit logic can be tested by jumping the clock; and the
day boundaries quotas reset on.

A clock also runs timers (`call_at`): the queue wakes its waiters at clock times, so a test
that moves its fake clock past a reset or a deadline wakes them as real time would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

UTC_ZONE = ZoneInfo("UTC")
PACIFIC_ZONE = ZoneInfo("America/Los_Angeles")


class Timer(Protocol):
    """A callback scheduled with `Clock.call_at`; cancelling a timer that ran does nothing."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Wall-clock seconds since the epoch. Limits compare reset times against it."""

    def now(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` on the running event loop once the clock reaches `when`."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        loop = asyncio.get_running_loop()
        return loop.call_at(loop.time() + (when - time.time()), callback)


def next_midnight(now: float, zone: ZoneInfo) -> float:
    """The next midnight in `zone` strictly after `now` (epoch seconds); daily quotas reset
    there (UTC for most providers, US Pacific for Google AI Studio)."""
    tomorrow = (datetime.fromtimestamp(now, zone) + timedelta(days=1)).date()
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone).timestamp()


def iso_utc(seconds: float) -> str:
    """Epoch seconds as ISO 8601 in UTC, to the millisecond (`2027-01-15T08:00:00.000Z`)."""
    moment = datetime.fromtimestamp(seconds, UTC_ZONE)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
