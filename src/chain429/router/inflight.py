"""The requests a waterfall is serving, so that a shutdown can wait for them and cut the rest.

A request `enter`s with the task that serves it and `leave`s once answered. `drain()` waits for
all of them up to a grace period, then cancels the ones still running and marks them cut: the
waterfall tells such a cancellation from a client that went away (`was_cut`) and answers the
request instead of dropping it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final, NamedTuple

#: How long requests cut at the end of the grace may take to send their answer.
CUT_ANSWER_S: Final = 0.25

_Task = asyncio.Task[Any]


class Drained(NamedTuple):
    """How a drain ended: requests that finished within the grace, and requests cut short."""

    finished: int
    cut: int


class InFlight:
    """The tasks serving requests right now; see the module docstring."""

    __slots__ = ("_tasks", "_cut")

    def __init__(self) -> None:
        self._tasks: set[_Task] = set()
        self._cut: set[_Task] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def enter(self) -> _Task:
        """Count the current task in until `leave`; returns it."""
        task = asyncio.current_task()
        assert task is not None, "requests are served by tasks"
        self._tasks.add(task)
        return task

    def leave(self, task: _Task) -> None:
        self._tasks.discard(task)
        self._cut.discard(task)

    def was_cut(self, task: _Task | None = None) -> bool:
        """Whether `task` (the current one by default) was cancelled by `drain`."""
        return (task or asyncio.current_task()) in self._cut

    async def drain(self, grace_s: float) -> Drained:
        """Wait up to `grace_s` for the requests in flight to finish, then cut the rest short
        and give them `CUT_ANSWER_S` to answer."""
        running = set(self._tasks)
        if not running:
            return Drained(0, 0)
        _, late = await asyncio.wait(running, timeout=grace_s)
        cut = late & self._tasks
        self._cut |= cut
        for task in cut:
            task.cancel()
        if cut:
            await asyncio.wait(cut, timeout=CUT_ANSWER_S)
        return Drained(len(running) - len(cut), len(cut))
