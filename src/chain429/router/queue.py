"""Queue mode: requests that find every entry exhausted wait in a per-chain FIFO.

Only the head of a queue walks the chain. It is woken when a reservation is released anywhere
(capacity may be back) or when the earliest reset it was told about arrives; never by polling.
When the head is admitted it leaves the queue and wakes the next waiter, so a wake-up never
serves one waiter twice or skips another. A waiter whose client goes away leaves at once and
passes on any wake-up it had received.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Waiter:
    """One queued request: its place in line and the event that wakes it."""

    __slots__ = ("woken",)

    def __init__(self) -> None:
        self.woken = asyncio.Event()


class WaitQueue:
    """The FIFO of one chain."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._line: deque[Waiter] = deque()

    def __len__(self) -> int:
        return len(self._line)

    @property
    def full(self) -> bool:
        return len(self._line) >= self.max_size

    def join(self, waiter: Waiter, *, front: bool = False) -> None:
        if front:
            self._line.appendleft(waiter)
        else:
            self._line.append(waiter)

    def is_head(self, waiter: Waiter) -> bool:
        return bool(self._line) and self._line[0] is waiter

    def leave(self, waiter: Waiter) -> None:
        """Take `waiter` out of line; a wake-up it had not used goes to the new head."""
        try:
            self._line.remove(waiter)
        except ValueError:
            return
        if waiter.woken.is_set():
            waiter.woken.clear()
            self.wake_head()

    def wake_head(self) -> None:
        if self._line:
            self._line[0].woken.set()


class Queues:
    """Every chain's queue, woken together whenever capacity may have returned."""

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._queues: dict[str, WaitQueue] = {}

    def for_chain(self, chain: str) -> WaitQueue:
        queue = self._queues.get(chain)
        if queue is None:
            queue = self._queues[chain] = WaitQueue(self._max_size)
        return queue

    def wake_all(self) -> None:
        for queue in self._queues.values():
            if queue:
                queue.wake_head()

    def depths(self) -> dict[str, int]:
        return {name: len(q) for name, q in self._queues.items()}


class Place:
    """A request's place in a chain's queue."""

    __slots__ = ("queue", "waiter", "inside", "served_turn")

    def __init__(self, queue: WaitQueue, waiter: Waiter) -> None:
        self.queue = queue
        self.waiter = waiter
        self.inside = False
        self.served_turn = False

    def enter(self, *, front: bool) -> bool:
        if self.queue.full:
            return False
        self.queue.join(self.waiter, front=front)
        self.inside = True
        return True

    def step_out(self, pass_on: bool = True) -> None:
        """Leave the line (admitted, or gone); an admitted head lets the next one try."""
        if not self.inside:
            return
        self.inside = False
        self.served_turn = self.queue.is_head(self.waiter)
        self.queue.leave(self.waiter)
        if pass_on:
            self.queue.wake_head()

    async def turn(
        self, loop: asyncio.AbstractEventLoop, deadline: float, wake_at: float | None, now: float
    ) -> bool:
        """Wait until this request heads the line and is woken; False when time is up.

        `wake_at` (clock time, as `now`) is turned into loop time once, so a request that
        becomes head only later still wakes when capacity is due, not that much later.
        """
        event = self.waiter.woken
        wake_loop = None if wake_at is None else loop.time() + (wake_at - now)
        while True:
            timeout = deadline - loop.time()
            if self.queue.is_head(self.waiter) and wake_loop is not None:
                timeout = min(timeout, max(0.0, wake_loop - loop.time()))
            if timeout <= 0 and not event.is_set():
                return loop.time() < deadline and self.queue.is_head(self.waiter)
            try:
                async with asyncio.timeout(timeout):
                    await event.wait()
            except TimeoutError:
                if loop.time() >= deadline:
                    return False
            event.clear()
            if self.queue.is_head(self.waiter):
                return True
