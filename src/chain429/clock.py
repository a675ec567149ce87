"""Time as an injected dependency, so limit logic can be tested by jumping the clock; and the
day boundaries quotas reset on.

A clock also runs timers (`call_at`): the queue wakes its waiters at clock times, so a test
that moves a `FakeClock` past a reset or a deadline wakes them as real time would.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
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


class FakeClock:
    """A clock that only moves when told to; for tests. Moving it runs the timers that are due,
    in time order; a timer set for a time already reached runs soon on the event loop."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)

    def set(self, when: float) -> None:
        self._now = when
        while self._timers and self._timers[0][0] <= when:
            heapq.heappop(self._timers)[2].run()

    @property
    def pending(self) -> int:
        """Timers waiting for the clock to reach them (cancelled ones left out)."""
        return sum(1 for _, _, timer in self._timers if timer.armed)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        if when <= self._now:
            return asyncio.get_running_loop().call_soon(callback)
        timer = _FakeTimer(callback)
        heapq.heappush(self._timers, (when, next(self._order), timer))
        return timer


class _FakeTimer:
    __slots__ = ("_callback",)

    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback: Callable[[], None] | None = callback

    @property
    def armed(self) -> bool:
        return self._callback is not None

    def cancel(self) -> None:
        self._callback = None

    def run(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            callback()


def next_midnight(now: float, zone: ZoneInfo) -> float:
    """The next midnight in `zone` strictly after `now` (epoch seconds); daily quotas reset
    there (UTC for most providers, US Pacific for Google AI Studio)."""
    tomorrow = (datetime.fromtimestamp(now, zone) + timedelta(days=1)).date()
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone).timestamp()
