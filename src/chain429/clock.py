"""Time as an injected dependency, so limit logic can be tested by jumping the clock; and the
day boundaries quotas reset on."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

UTC_ZONE = ZoneInfo("UTC")
PACIFIC_ZONE = ZoneInfo("America/Los_Angeles")


class Clock(Protocol):
    """Wall-clock seconds since the epoch. Limits compare reset times against it."""

    def now(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that only moves when told to; for tests."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, when: float) -> None:
        self._now = when


def next_midnight(now: float, zone: ZoneInfo) -> float:
    """The next midnight in `zone` strictly after `now` (epoch seconds); daily quotas reset
    there (UTC for most providers, US Pacific for Google AI Studio)."""
    tomorrow = (datetime.fromtimestamp(now, zone) + timedelta(days=1)).date()
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone).timestamp()
