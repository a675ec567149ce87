"""Queue mode: requests that find every entry exhausted wait in a per-chain FIFO.

Queue mode wraps the walk: a request waits for its turn (`Line.take_turn`), then walks the
chain once as any request does, and waits again while an entry frees up before its deadline.
Only the head of a queue gets a turn. It is woken when a reservation is released on an entry
its chain lists (capacity may be back there; on any replica, with a shared limit state: see
`state_store.wakes`), or at the earliest reset it was told about, or at its deadline, by
timers on the injected clock; never by polling. A head steps out of line for
its walk, and the next waiter becomes head and is woken, so a wake-up never serves one waiter
twice or skips another; a head whose walk found nothing goes back to the front.

A chain that is not in the config (a direct `provider/model` request) has a queue only while
requests are using it, so client-chosen names leave nothing behind.

A config change (`Queues.reconfigure`) keeps the line of every chain that is still there (by
name), which is woken from then on by releases on the chain's new entries; a removed chain's
queue is closed: each of its waiters gets one last walk of the chain it came for at once, and
its verdict if that walk finds nothing. Turning queue mode off closes every queue alike
(`Queues.close_all`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from enum import Enum
from typing import TypeVar

from chain429.clock import Clock
from chain429.config.schema import Chain

K = TypeVar("K", bound=Hashable)


class Waiter:
    """One queued request: its place in line and the event that wakes it."""

    __slots__ = ("woken",)

    def __init__(self) -> None:
        self.woken = asyncio.Event()


class WaitQueue:
    """The FIFO of one chain."""

    def __init__(self, chain: Chain, max_size: int) -> None:
        self.chain = chain
        self.max_size = max_size
        self.users = 0
        self.closed = False
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
        """Take `waiter` out of line; when it was the head, the new head is woken to look."""
        was_head = self.is_head(waiter)
        try:
            self._line.remove(waiter)
        except ValueError:
            return
        waiter.woken.clear()
        if was_head:
            self.wake_head()

    def wake_head(self) -> None:
        if self._line:
            self._line[0].woken.set()

    def close(self) -> None:
        """No more waiting here: every waiter is woken for its last walk."""
        self.closed = True
        for waiter in self._line:
            waiter.woken.set()


class Queues:
    """Every chain's queue, found by the entries its chain lists.

    `wake(provider, model)` wakes the queues of the chains that list that entry, and, for a
    provider in `provider_wide` (capacity shared by all its models, such as a provider-wide
    `concurrentRequests`), of every chain that lists any model of that provider.
    """

    def __init__(
        self, max_size: int, chains: Iterable[Chain], provider_wide: Iterable[str] = ()
    ) -> None:
        self._max_size = max_size
        self._provider_wide = frozenset(provider_wide)
        self._queues: dict[str, WaitQueue] = {}
        self._by_entry: dict[tuple[str, str], dict[str, WaitQueue]] = {}
        self._by_provider: dict[str, dict[str, WaitQueue]] = {}
        for chain in chains:
            self._add(chain)
        self._configured = frozenset(self._queues)

    def open(self, chain: Chain) -> WaitQueue:
        """The queue of `chain`, held until `close`; a chain not in the config gets one now."""
        queue = self._queues.get(chain.name)
        if queue is None:
            queue = self._add(chain)
        queue.users += 1
        return queue

    def close(self, queue: WaitQueue) -> None:
        """One request is done with `queue`; the queue of a chain not in the config goes when
        no request uses it."""
        queue.users -= 1
        if queue.users <= 0 and queue.chain.name not in self._configured:
            self._remove(queue)

    def reconfigure(
        self, max_size: int, chains: Iterable[Chain], provider_wide: Iterable[str] = ()
    ) -> None:
        """Follow a config change: the queue of a chain still configured (found by name) keeps
        its line and takes the chain's new entries; a removed chain's queue is closed; the
        queues of chains outside the config stay while they are used."""
        configured = {chain.name: chain for chain in chains}
        kept: list[WaitQueue] = []
        for name, queue in self._queues.items():
            chain = configured.get(name)
            if chain is None and name in self._configured:
                queue.close()
                continue
            queue.chain = chain or queue.chain
            queue.max_size = max_size
            kept.append(queue)
        self._max_size = max_size
        self._provider_wide = frozenset(provider_wide)
        self._queues, self._by_entry, self._by_provider = {}, {}, {}
        for queue in kept:
            self._index(queue)
        for chain in configured.values():
            if chain.name not in self._queues:
                self._add(chain)
        self._configured = frozenset(configured)

    def close_all(self) -> None:
        """Queue mode is off: every queue is closed, every waiter gets its last walk."""
        for queue in self._queues.values():
            queue.close()
        self._queues, self._by_entry, self._by_provider = {}, {}, {}
        self._configured = frozenset()

    def wake(self, provider_id: str, model: str, *, provider_wide: bool = False) -> None:
        """Capacity may be back on (`provider_id`, `model`): wake the heads that could use it."""
        for queue in self._by_entry.get((provider_id, model), {}).values():
            queue.wake_head()
        if provider_wide or provider_id in self._provider_wide:
            for queue in self._by_provider.get(provider_id, {}).values():
                queue.wake_head()

    def depths(self) -> dict[str, int]:
        return {name: len(q) for name, q in self._queues.items()}

    def _add(self, chain: Chain) -> WaitQueue:
        queue = WaitQueue(chain, self._max_size)
        self._index(queue)
        return queue

    def _index(self, queue: WaitQueue) -> None:
        chain = queue.chain
        self._queues[chain.name] = queue
        for entry in chain.entries:
            self._by_entry.setdefault((entry.provider, entry.model), {})[chain.name] = queue
            self._by_provider.setdefault(entry.provider, {})[chain.name] = queue

    def _remove(self, queue: WaitQueue) -> None:
        name = queue.chain.name
        if self._queues.get(name) is not queue:
            return  # closed by a config change: it is no longer indexed
        del self._queues[name]
        for entry in queue.chain.entries:
            _drop(self._by_entry, (entry.provider, entry.model), name)
            _drop(self._by_provider, entry.provider, name)


def _drop(index: dict[K, dict[str, WaitQueue]], key: K, name: str) -> None:
    holders = index.get(key)
    if holders is not None:
        holders.pop(name, None)
        if not holders:
            del index[key]


class Turn(Enum):
    """What a request waiting in line gets."""

    GO = "go"  # walk the chain now
    FULL = "full"  # no room in the queue: refused
    TIME_UP = "time_up"  # the deadline came while others were ahead


class Line:
    """One request's place in its chain's queue, from its arrival to its last pass.

    `take_turn` waits until the request may walk the chain, and steps it out of line for the
    walk so the next in line can try meanwhile; the next `take_turn` puts it back, at the front
    when its turn came from the line. A request that finds nobody waiting on arrival walks at
    once. Use it as a context manager: leaving lets the queue go.
    """

    __slots__ = ("_queues", "_queue", "_waiter", "_clock", "_deadline", "_inside", "_turns")

    def __init__(self, queues: Queues, chain: Chain, clock: Clock, deadline: float) -> None:
        self._queues = queues
        self._queue = queues.open(chain)
        self._waiter = Waiter()
        self._clock = clock
        self._deadline = deadline
        self._inside = False
        self._turns: int | None = None  # None until the first `take_turn`

    def __enter__(self) -> Line:
        return self

    def __exit__(self, *_: object) -> None:
        self._step_out()
        self._queues.close(self._queue)

    async def take_turn(self, wake_at: float | None, waited: Callable[[float], None]) -> Turn:
        """Wait in line until this request heads it and is woken: by a release on an entry of
        its chain, at `wake_at` (when capacity is due back), or at its deadline, when a head
        still gets one last look. `waited` is told the seconds spent in line."""
        arriving = self._turns is None
        self._turns = self._turns or 0
        if self._queue.closed:
            return Turn.GO if arriving else Turn.TIME_UP
        if arriving and not self._queue:
            return Turn.GO
        if self._queue.full:
            return Turn.FULL
        self._queue.join(self._waiter, front=self._turns > 0)
        self._inside = True
        started = self._clock.now()
        try:
            if not await self._head_woken(wake_at):
                return Turn.TIME_UP
        finally:
            waited(self._clock.now() - started)
        self._step_out()
        self._turns += 1
        return Turn.GO

    def _step_out(self) -> None:
        """Leave the line; a head that leaves lets the next one try."""
        if self._inside:
            self._inside = False
            self._queue.leave(self._waiter)

    async def _head_woken(self, wake_at: float | None) -> bool:
        """Wait until this request heads the line and is woken; False when the deadline came
        first. Timers on the clock wake it at `wake_at` and at the deadline (clock times)."""
        waiter, deadline = self._waiter, self._deadline
        event = waiter.woken
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            event.set()

        timers = [self._clock.call_at(deadline, expire)]
        if wake_at is not None and wake_at < deadline:
            timers.append(self._clock.call_at(wake_at, event.set))
        try:
            while True:
                await event.wait()
                event.clear()
                if self._queue.closed or self._queue.is_head(waiter):
                    return True
                if expired:
                    return False
        finally:
            for timer in timers:
                timer.cancel()
