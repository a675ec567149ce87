"""The live event hub behind `GET /api/events`: what happens is published once, and every
subscriber that asked for its kind gets the same bytes.

Publishing is for the request path, so it is cheap, never waits and never fails: with nobody
listening for a kind, `publish` returns after one lookup, and callers that would have to build
the data first ask `wants(kind)` before they do. With listeners, the event is serialised once
(orjson, as one SSE frame with its `id:` and `event:` lines) and appended to each subscriber's
buffer, O(subscribers).

Each buffer is bounded. A subscriber that does not keep up skips ahead: the oldest frames are
dropped to make room for new ones, and its next read starts with a `missed` event saying how
many it lost. So a slow consumer costs at most `buffer_size` frames of memory and never slows
anyone else; the proxy never waits for it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Iterable
from enum import StrEnum
from typing import Final, Protocol

import orjson

BUFFER_SIZE: Final = 256
MAX_SUBSCRIBERS: Final = 32


class EventKind(StrEnum):
    """What can be published; a subscriber chooses among these."""

    REQUEST = "request"
    LIMITS = "limits"
    CONFIG = "config"


class Demand(Protocol):
    """A producer that runs only while someone listens to its kind (see `EventHub.on_demand`)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def sse_frame(event: str, data: object, event_id: int | None = None) -> bytes:
    """One server-sent event: `id:` (when given), `event:` and one `data:` line of JSON."""
    head = b"" if event_id is None else b"id: %d\n" % event_id
    return head + b"event: %s\ndata: %s\n\n" % (event.encode(), orjson.dumps(data))


class Subscription:
    """One listener's bounded buffer of frames, read with `take`."""

    __slots__ = ("kinds", "missed", "_frames", "_unread_missed", "_waiter", "_nudged", "_closed")

    def __init__(self, kinds: frozenset[EventKind], buffer_size: int) -> None:
        self.kinds = kinds
        #: Frames dropped from this subscriber's buffer since it subscribed.
        self.missed = 0
        self._frames: deque[bytes] = deque(maxlen=buffer_size)
        self._unread_missed = 0
        self._waiter: asyncio.Future[None] | None = None
        self._nudged = False
        self._closed = False

    @property
    def pending(self) -> int:
        """Frames waiting to be taken."""
        return len(self._frames)

    def deliver(self, frame: bytes) -> None:
        if len(self._frames) == self._frames.maxlen:
            self.missed += 1
            self._unread_missed += 1
        self._frames.append(frame)
        self._wake()

    def nudge(self) -> None:
        """Wake a waiting `take` even with nothing to read (it returns `[]`): a heartbeat."""
        self._nudged = True
        self._wake()

    def close(self) -> None:
        self._closed = True
        self._wake()

    async def take(self) -> list[bytes] | None:
        """Every frame waiting, oldest first, after a `missed` event if frames were dropped;
        waits while there is none. `[]` after a `nudge`; None once closed and emptied."""
        if not (self._frames or self._nudged or self._closed):
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        self._nudged = False
        frames = list(self._frames)
        self._frames.clear()
        if self._unread_missed:
            frames.insert(0, sse_frame("missed", {"missed": self._unread_missed}))
            self._unread_missed = 0
        if not frames and self._closed:
            return None
        return frames

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class EventHub:
    """Publishes events to subscribers; see the module docstring.

    Event ids increase by one per published event, across kinds, so a subscriber to some kinds
    sees gaps. `close` ends every subscription (at shutdown) and refuses new ones.
    """

    def __init__(
        self, *, buffer_size: int = BUFFER_SIZE, max_subscribers: int = MAX_SUBSCRIBERS
    ) -> None:
        self._buffer_size = buffer_size
        self._max_subscribers = max_subscribers
        self._by_kind: dict[EventKind, list[Subscription]] = {kind: [] for kind in EventKind}
        self._subscriptions: set[Subscription] = set()
        self._demands: dict[EventKind, list[Demand]] = {kind: [] for kind in EventKind}
        self._ids = itertools.count(1)
        self.last_id = 0
        self.closed = False

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(self._subscriptions)

    @property
    def full(self) -> bool:
        return len(self._subscriptions) >= self._max_subscribers

    def wants(self, kind: EventKind) -> bool:
        """Whether anyone listens to `kind` now: build an event's data only if so."""
        return bool(self._by_kind[kind])

    def publish(self, kind: EventKind, data: object) -> None:
        """Send `data` (JSON-serialisable) to every subscriber of `kind`; never waits."""
        listeners = self._by_kind[kind]
        if not listeners:
            return
        self.last_id = next(self._ids)
        frame = sse_frame(kind, data, self.last_id)
        for subscription in listeners:
            subscription.deliver(frame)

    def subscribe(self, kinds: Iterable[EventKind] = EventKind) -> Subscription | None:
        """A new subscription to `kinds` (every kind by default); None when the hub is closed
        or has `max_subscribers` already."""
        if self.closed or self.full:
            return None
        subscription = Subscription(frozenset(kinds), self._buffer_size)
        self._subscriptions.add(subscription)
        for kind in subscription.kinds:
            self._by_kind[kind].append(subscription)
            if len(self._by_kind[kind]) == 1:
                for demand in self._demands[kind]:
                    demand.start()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription not in self._subscriptions:
            return
        self._subscriptions.discard(subscription)
        for kind in subscription.kinds:
            self._by_kind[kind].remove(subscription)
            if not self._by_kind[kind]:
                for demand in self._demands[kind]:
                    demand.stop()

    def on_demand(self, kind: EventKind, demand: Demand) -> None:
        """Start `demand` while at least one subscriber listens to `kind`, stop it after."""
        self._demands[kind].append(demand)
        if self._by_kind[kind]:
            demand.start()

    def close(self) -> int:
        """End every subscription once its buffer is read, refuse new ones; returns how many
        subscriptions were open."""
        self.closed = True
        for subscription in self._subscriptions:
            subscription.close()
        return len(self._subscriptions)
