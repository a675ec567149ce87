"""What a proxy run in this process holds, to compare before and after a load: its asyncio tasks
and open file descriptors, the TCP connections open to the simulator, the tracker's
reservations, the requests in flight and in the queues.

Tasks and descriptors are compared as sets, not counts: one that finished since the baseline is
no leak, and a leaked one is named (its task and coroutine, or what the descriptor points at)
even when another one closed meanwhile. `settled` polls until nothing is held beyond the
baseline and otherwise fails naming each counter that did not return, and by how much."""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from typing import Any

from chain429.server import RunningServer
from chain429.sim.simulator import Simulator
from chain429.state import STATE
from tests.support.polling import eventually

_FDS = "/proc/self/fd"


@dataclass(frozen=True)
class Holdings:
    tasks: frozenset[asyncio.Task[Any]]
    fds: frozenset[tuple[int, str]]
    """(descriptor, what it points at: a path, `socket:[inode]`, `anon_inode:[eventpoll]`)."""
    upstream_connections: int
    reservations: tuple[str, ...]
    """What the tracker's reservations hold, one line per counter (`LimitTracker.holdings`)."""
    requests_in_flight: int
    queued: int

    @property
    def idle(self) -> bool:
        """No request anywhere: none in flight or queued, no reservation, no upstream call."""
        return not (
            self.upstream_connections or self.reservations or self.requests_in_flight or self.queued
        )


def holdings(server: RunningServer, sim: Simulator) -> Holdings:
    state = server.app[STATE]
    queues = state.waterfall.queues
    return Holdings(
        tasks=frozenset(asyncio.all_tasks()),
        fds=open_fds(),
        upstream_connections=sim.open_connections,
        reservations=tuple(state.tracker.holdings()),
        requests_in_flight=len(state.waterfall.in_flight),
        queued=sum(queues.depths().values()) if queues is not None else 0,
    )


def open_fds() -> frozenset[tuple[int, str]]:
    found = set()
    for name in os.listdir(_FDS):
        with contextlib.suppress(FileNotFoundError):  # closed meanwhile (the listing's own)
            found.add((int(name), os.readlink(f"{_FDS}/{name}")))
    return frozenset(found)


def beyond(baseline: Holdings, now: Holdings) -> list[str]:
    """What `now` holds beyond `baseline`: one line per counter, saying by how much and what."""
    out = []
    tasks = now.tasks - baseline.tasks
    if tasks:
        named = ", ".join(sorted(f"{t.get_name()} ({t.get_coro()})" for t in tasks)[:10])
        out.append(f"tasks: {len(tasks)} more than the baseline's {len(baseline.tasks)}: {named}")
    fds = now.fds - baseline.fds
    if fds:
        named = ", ".join(f"{fd} -> {target}" for fd, target in sorted(fds)[:10])
        out.append(f"open fds: {len(fds)} more than the baseline's {len(baseline.fds)}: {named}")
    for name in ("upstream_connections", "requests_in_flight", "queued"):
        before, after = getattr(baseline, name), getattr(now, name)
        if after > before:
            out.append(f"{name}: {before} -> {after} (+{after - before})")
    if len(now.reservations) > len(baseline.reservations):
        held = "; ".join(now.reservations[:10])
        out.append(f"reservations: {len(now.reservations)} counters hold something: {held}")
    return out


async def baseline(server: RunningServer, sim: Simulator, *, timeout: float = 10.0) -> Holdings:
    """What is held once no request is anywhere (after a warm-up)."""
    nothing = Holdings(frozenset(), frozenset(), 0, (), 0, 0)
    last: list[Holdings] = []

    def idle() -> Holdings | None:
        last[:] = [holdings(server, sim)]
        return last[0] if last[0].idle else None

    try:
        return await eventually(idle, timeout=timeout, what="no request in flight")
    except AssertionError:
        held = [line for line in beyond(nothing, last[0]) if not line.startswith(("tasks", "open"))]
        lines = "\n  ".join(held)
        raise AssertionError(f"requests still held after {timeout:g}s:\n  {lines}") from None


async def settled(
    server: RunningServer, sim: Simulator, base: Holdings, *, timeout: float = 10.0
) -> None:
    """Wait until nothing is held beyond `base`; fail naming what still is."""
    last: list[str] = []

    def back() -> bool:
        last[:] = beyond(base, holdings(server, sim))
        return not last

    try:
        await eventually(back, timeout=timeout, what="back to the baseline")
    except AssertionError:
        lines = "\n  ".join(last)
        raise AssertionError(f"not back to the baseline within {timeout:g}s:\n  {lines}") from None
