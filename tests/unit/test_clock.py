"""The fake clock runs its timers when moved, in time order, as the real one would."""

from __future__ import annotations

import asyncio

from chain429.clock import SystemClock
from tests.support.clock import FakeClock


def test_moving_the_fake_clock_runs_the_timers_that_are_due_in_time_order() -> None:
    clock = FakeClock(100.0)
    ran: list[str] = []
    clock.call_at(130.0, lambda: ran.append("130"))
    clock.call_at(110.0, lambda: ran.append("110"))
    clock.call_at(200.0, lambda: ran.append("200"))
    cancelled = clock.call_at(120.0, lambda: ran.append("120"))
    cancelled.cancel()
    clock.advance(9)
    assert ran == []
    clock.advance(21)
    assert ran == ["110", "130"]
    clock.set(500.0)
    assert ran == ["110", "130", "200"]


async def test_a_timer_for_a_time_already_reached_runs_soon() -> None:
    clock = FakeClock(100.0)
    done = asyncio.Event()
    clock.call_at(100.0, done.set)
    assert not done.is_set()
    await asyncio.wait_for(done.wait(), 1)


async def test_the_system_clock_runs_a_timer_at_a_wall_clock_time() -> None:
    clock = SystemClock()
    done = asyncio.Event()
    clock.call_at(clock.now() + 0.01, done.set)
    await asyncio.wait_for(done.wait(), 2)
