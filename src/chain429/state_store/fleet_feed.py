"""The live request feed across replicas: every replica's `/api/events` carries the fleet's
`request` events, each with the `replica` that served it.

Each replica publishes its request events (the row `/api/events` sends, with no key, as
always) on one Redis channel, but only while a dashboard follows the feed on another replica
(`wanted`, from the replicas' records, see `replicas`): with nobody watching, a request costs
the flag read it cost before. Publishing never waits: rows go to a bounded outbox that one
task empties, a pipeline per round trip (of a cluster, a round trip per row: see
`clients.publish`); a full outbox drops (and counts) rows.

While a dashboard follows the feed here (the feed is a `Demand` of the hub), this replica
subscribes to the channel and hands the other replicas' rows to its hub (its own reach the hub
directly). Redis unreachable: the feed is this replica's own until Redis answers again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

import orjson
import structlog
from redis.exceptions import RedisError

from chain429.event_hub import EventHub, EventKind
from chain429.state_store import clients
from chain429.state_store.clients import Client
from chain429.state_store.names import PREFIX
from chain429.state_store.redis_store import RETRY_S
from chain429.tasks import create_task, stop

log = structlog.get_logger("chain429.state_store")

CHANNEL: Final = f"{PREFIX}:fleet:requests"
#: Rows waiting to be published at most; more are dropped (a Redis far slower than requests).
OUTBOX_SIZE: Final = 1024
_OUTAGE = (RedisError, OSError)


class FleetFeed:
    """See the module docstring. `on_watching` is called when this replica starts or stops
    following the channel (its record says so at once)."""

    def __init__(
        self,
        client: Client,
        subscriber: Client,
        hub: EventHub,
        replica: str,
        on_watching: Callable[[], None],
        *,
        retry_s: float = RETRY_S,
    ) -> None:
        self.replica = replica
        #: Whether a dashboard follows the feed on another replica: publish only then.
        self.wanted = False
        #: Whether this replica follows the channel now (for a dashboard of its own).
        self.watching = False
        self.dropped = 0
        #: Rows sent to Redis.
        self.published = 0
        self._client = client
        self._subscriber = subscriber
        self._hub = hub
        self._on_watching = on_watching
        self._retry_s = retry_s
        self._outbox: list[bytes] = []
        self._wake = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None

    def publish(self, row: dict[str, Any]) -> None:
        """Publish `row` to the other replicas; never waits."""
        if len(self._outbox) >= OUTBOX_SIZE:
            self.dropped += 1
            return
        self._outbox.append(orjson.dumps(row))
        if self._sender is None:
            self._sender = create_task(self._send(), name="fleet-feed-publish")
        self._wake.set()

    def start(self) -> None:
        if self._listener is None:
            self._listener = create_task(self._listen(), name="fleet-feed-listen")

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
        self._set_watching(False)

    async def close(self) -> None:
        tasks = (self._listener, self._sender)
        self._listener = self._sender = None
        for task in tasks:
            await stop(task)

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._outbox = self._outbox, []
            if not batch:
                continue
            try:
                await clients.publish(self._client, CHANNEL, batch)
                self.published += len(batch)
            except _OUTAGE:
                self.dropped += len(batch)  # the limit state's store tells the outage

    async def _listen(self) -> None:
        while asyncio.current_task() is self._listener:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    if asyncio.current_task() is not self._listener:
                        return  # redis-py may swallow a cancel landing while it subscribes
                    self._set_watching(True)
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._deliver(message["data"])
            except _OUTAGE:
                pass
            self._set_watching(False)
            await asyncio.sleep(self._retry_s)

    def _deliver(self, data: bytes) -> None:
        try:
            row = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if isinstance(row, dict) and row.get("replica") != self.replica:
            self._hub.publish(EventKind.REQUEST, row)

    def _set_watching(self, watching: bool) -> None:
        if watching != self.watching:
            self.watching = watching
            self._on_watching()
