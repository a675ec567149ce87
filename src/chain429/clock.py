"""Time as an injected dependency, so limit logic can be tested by jumping the clock; and the
day boundaries quotas reset on.

A clock keeps two times. `now()` is the proxy's steady timeline: epoch seconds when the clock
was made, advanced since by the monotonic clock, so a step of the wall clock (NTP correcting it
by an hour) does not move it. Admission, cooldowns, windows and timers all run on it, so such a
step neither frees every benched entry nor benches one for an hour. `wall()` is the wall clock.
A point in time a provider states as a wall time (an epoch `x-ratelimit-reset`, an HTTP date,
Google's midnight Pacific) is converted once, when it arrives (`from_wall`), and kept on the
steady timeline from then on; what leaves the process to be read by another (the saved limit
state) is converted back (`to_wall`). Usage records, the statistics' time ranges and retention
are read by people and by other replicas writing the same database: they take `wall()`.

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
    """Seconds since the epoch on a steady timeline (`now`), and the wall clock (`wall`)."""

    def now(self) -> float:
        """The steady timeline: limits compare reset times against it; never jumps."""
        ...

    def wall(self) -> float:
        """The wall clock, which an NTP step may move either way."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` on the running event loop once `now()` reaches `when`."""
        ...


class SystemClock:
    """The real clock: the wall clock when it was made, advanced by the monotonic clock."""

    def __init__(self) -> None:
        self._origin = time.time() - time.monotonic()

    def now(self) -> float:
        return self._origin + time.monotonic()

    def wall(self) -> float:
        return time.time()

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        loop = asyncio.get_running_loop()
        return loop.call_at(loop.time() + (when - self.now()), callback)


def wall_offset(clock: Clock) -> float:
    """How far the wall clock is ahead of the steady timeline now (0 until the wall clock is
    stepped; then the size of the step)."""
    return clock.wall() - clock.now()


def from_wall(clock: Clock, instant: float) -> float:
    """A wall-clock instant (a provider's epoch reset) on the steady timeline."""
    return instant - wall_offset(clock)


def to_wall(clock: Clock, instant: float) -> float:
    """A steady-timeline instant as a wall-clock one, for another process to read."""
    return instant + wall_offset(clock)


def next_midnight(now: float, zone: ZoneInfo) -> float:
    """The next midnight in `zone` strictly after `now` (epoch seconds); daily quotas reset
    there (UTC for most providers, US Pacific for Google AI Studio)."""
    tomorrow = (datetime.fromtimestamp(now, zone) + timedelta(days=1)).date()
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone).timestamp()


def next_day_start(now: float, zone: ZoneInfo, clock: Clock | None = None) -> float:
    """`next_midnight` for a `now` on `clock`'s steady timeline: found on the wall clock, where
    days begin, and brought back, so a day still ends at midnight after the wall clock stepped.
    Without a clock, `now` is a wall time."""
    offset = 0.0 if clock is None else wall_offset(clock)
    return next_midnight(now + offset, zone) - offset


def iso_utc(seconds: float) -> str:
    """Epoch seconds as ISO 8601 in UTC, to the millisecond (`2027-01-15T08:00:00.000Z`)."""
    moment = datetime.fromtimestamp(seconds, UTC_ZONE)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
