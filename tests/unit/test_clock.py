"""The fake clock runs its timers when moved, in time order, as the real one would."""

from __future__ import annotations

import asyncio
import time

import pytest

from chain429.clock import SystemClock, from_wall, to_wall, wall_offset
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


def test_the_system_clock_runs_on_a_steady_timeline_when_the_wall_clock_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SystemClock()
    before = clock.now()
    assert abs(clock.wall() - before) < 1.0, "it starts at the wall clock"
    stepped = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: stepped)  # NTP steps the wall clock an hour on
    assert clock.wall() == stepped
    assert before <= clock.now() < before + 1.0, "the steady timeline does not jump"
    assert wall_offset(clock) == pytest.approx(3600, abs=1.0)
    assert from_wall(clock, stepped + 30) == pytest.approx(clock.now() + 30, abs=1.0)
    assert to_wall(clock, clock.now()) == pytest.approx(stepped, abs=1.0)


def test_the_fake_clock_steps_its_wall_clock_alone() -> None:
    clock = FakeClock(100.0)
    clock.step_wall(-3600)
    assert (clock.now(), clock.wall()) == (100.0, 100.0 - 3600)
    clock.advance(10)
    assert (clock.now(), clock.wall()) == (110.0, 110.0 - 3600)
    assert from_wall(clock, clock.wall() + 5) == 115.0
