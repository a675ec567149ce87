"""This replica's place among the replicas sharing one Redis: it says it is there, knows the
others, and gives the dashboard the fleet's view of limits (`fleet_limits`) and of live
requests (`fleet_feed`).

Every `TICK_S` (and at once when this replica starts or stops following the live feed) one
round trip refreshes this replica's record and reads everyone's (`replicas`). Nothing here is
on the request path, and nothing runs with the memory store: the app builds a `Fleet` only
when `settings.stateStore` names Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Final

from redis.exceptions import RedisError

from chain429.clock import Clock
from chain429.config.schema import Config
from chain429.event_hub import EventHub, EventKind
from chain429.limits.tracker import LimitTracker
from chain429.state_store import clients
from chain429.state_store.fleet_feed import FleetFeed
from chain429.state_store.fleet_limits import FleetLimits
from chain429.state_store.redis_store import RedisStore
from chain429.state_store.replicas import REPLICAS, FleetMembers, ReplicaRecord
from chain429.tasks import create_task, stop

#: Seconds between two refreshes of this replica's record.
TICK_S: Final = 1.0
#: The replicas' hash goes when no replica has refreshed it for a day.
_HASH_TTL_S: Final = 86_400
#: The longest the replica's goodbye (removing its record) may hold the shutdown.
_GOODBYE_S: Final = 0.5
_OUTAGE = (RedisError, OSError)


class Fleet:
    """See the module docstring."""

    def __init__(
        self,
        store: RedisStore,
        url: str,
        hub: EventHub,
        config: Callable[[], Config],
        tracker: Callable[[], LimitTracker],
        clock: Clock,
        *,
        started_at: float,
        tick_s: float = TICK_S,
    ) -> None:
        self._client = clients.commands(url)
        self._subscriber = clients.subscriber(url)
        self._store = store
        self._hub = hub
        self._tick_s = tick_s
        self.me = ReplicaRecord.of_this_process(started_at)
        self.members: FleetMembers | None = None
        self.limits = FleetLimits(self._client, lambda: store.available, config, tracker, clock)
        self.feed = FleetFeed(self._client, self._subscriber, hub, self.me.id, self._beat_soon)
        self._wake = asyncio.Event()
        self._ticker: asyncio.Task[None] | None = None

    @property
    def replicas(self) -> tuple[ReplicaRecord, ...]:
        """The replicas seen lately, this one included (alone while Redis is unreachable)."""
        members = self.members
        if members is None or not self._store.available:
            return (self.me,)
        return members.live

    def start(self) -> None:
        """Say this replica is there (at once, then every tick) and follow the live feed while
        a dashboard here does. Waits for nothing: an unreachable Redis delays no start."""
        self._hub.on_demand(EventKind.REQUEST, self.feed)
        self._ticker = create_task(self._tick(), name="fleet-heartbeat")

    async def close(self) -> None:
        await stop(self._ticker)
        await self.feed.close()
        await self.limits.close()
        with contextlib.suppress(*_OUTAGE, TimeoutError):
            async with asyncio.timeout(_GOODBYE_S):  # an unreachable Redis holds no shutdown
                await self._client.hdel(REPLICAS, self.me.id)  # gone now, not in GONE_AFTER_S
        await self._client.aclose()
        await self._subscriber.aclose()

    def _beat_soon(self) -> None:
        self._wake.set()

    async def _tick(self) -> None:
        while True:
            await self._beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._tick_s)
            self._wake.clear()

    async def _beat(self) -> None:
        now = time.time()
        self.me = self.me.seen(now, self.feed.watching)
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.hset(REPLICAS, self.me.id, self.me.dumps())
                pipe.expire(REPLICAS, _HASH_TTL_S)
                pipe.hgetall(REPLICAS)
                *_, stored = await pipe.execute()
            members = FleetMembers.of(stored, now)
            if members.forgotten:
                await self._client.hdel(REPLICAS, *members.forgotten)
        except _OUTAGE:  # the limit state's store tells the outage
            self.members, self.feed.wanted = None, False
            return
        self.members = members
        self.feed.wanted = members.watched_elsewhere(self.me.id)
