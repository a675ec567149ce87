"""A clock that only moves when a test moves it (see `chain429.clock.Clock`)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

from chain429.clock import Timer

#: Where the tests' fake clocks start: 2027-01-15, a moment no test depends on otherwise.
START = 1_800_000_000.0


class FakeClock:
    """A clock that only moves when told to; for tests. Moving it runs the timers that are due,
    in time order; a timer set for a time already reached runs soon on the event loop.
    `step_wall` moves only its wall clock, as an NTP step moves a real one."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._wall_offset = 0.0
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def step_wall(self, seconds: float) -> None:
        """Move the wall clock by `seconds` (either way); the steady timeline does not move."""
        self._wall_offset += seconds

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
