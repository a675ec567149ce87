"""The shared limit state's side of Redis: runs the scripts of `scripts`, in order.

Admissions wait for their answer; header reports, releases and cooldowns are writes nobody
waits for. All of them go through one queue and leave in the order they were made: what one
turn of the event loop queued is written at the end of that turn, without waiting for the
replies of what went before (`redis_link`: one pipelined connection, answered first in,
first out). A report sent before an admission is applied before it, as it would be in one
process, and an admission waits for one round trip, its own.

When Redis cannot be reached the store says so (`available` false, one warning in the log),
answers every admission with None (the caller serves on its local state) and drops the
writes; it tries again every `retry_s` and, once Redis answers, says so and shares again.
A connection that drops while Redis still answers (an idle timeout, a restart already over)
is replaced at once, without an outage. What was lost meanwhile comes back with the next
headers; a lease taken before the outage and lost with it is simply gone (its release finds
nothing to give back).

The queue, its order and the outages are this module's; running calls on a connection is the
`Link`'s (`_open`, the one place that makes one, chooses the transport).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import structlog

from chain429.config.cluster_url import is_cluster_url
from chain429.state_store import scripts
from chain429.state_store.cluster_link import ClusterLink
from chain429.state_store.names import SlotKeys
from chain429.state_store.redis_link import NO_KEYS, OUTAGE, PING, Call, Link, RedisLink
from chain429.state_store.resp import RedisAddress
from chain429.tasks import create_task, stop

log = structlog.get_logger("chain429.state_store")

#: Seconds between two attempts to reach Redis again after it went away.
RETRY_S: Final = 1.0
#: Longest a connection or a command may take before Redis counts as unreachable.
TIMEOUT_S: Final = 1.0

SCRIPTS: Final = {
    "admit": scripts.ADMIT,
    "observe": scripts.OBSERVE,
    "release": scripts.RELEASE,
    "cool": scripts.COOL,
    "renew": scripts.RENEW,
    "gated_admit": scripts.GATED_ADMIT,
    "answer": scripts.ANSWER,
    "learn": scripts.LEARN,
    "take_place": scripts.TAKE_PLACE,
    "free_place": scripts.FREE_PLACE,
}
Arg = str | int | float


class RedisStore:
    """One proxy's connection to the shared state; see the module docstring."""

    def __init__(self, url: str, *, retry_s: float = RETRY_S, timeout_s: float = TIMEOUT_S) -> None:
        # A Redis Cluster (`redis+cluster://`) is reached through `cluster_link` instead.
        self._address = None if is_cluster_url(url) else RedisAddress.parse(url)
        self._retry_s = retry_s
        self._timeout_s = timeout_s
        self._link: Link | None = None
        self._pending: list[Call] = []
        self._flush_due = False
        self._connecting: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[bool], None]] = []
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._closed = False
        self.available = False
        self.url = url
        """Where Redis is (with its password, if any: never logged), for the subscriptions that
        go with this store (`answer_feed`)."""

    def on_change(self, listener: Callable[[bool], None]) -> None:
        """Call `listener` with `available` each time Redis goes away or comes back."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Connect and load the scripts; an unreachable Redis is an outage, not a failure (the
        proxy starts on local state and shares once Redis answers)."""
        try:
            self._link = await self._open()
        except OUTAGE as exc:
            self._lost(exc)
            return
        self._set_available(True)

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Await `closer` when the store closes (what goes with it: a subscription)."""
        self._closers.append(closer)

    async def close(self) -> None:
        closers, self._closers = self._closers, []
        for closer in closers:
            await closer()
        self._closed = True
        self._set_available(False)
        await stop(self._connecting)
        link, self._link = self._link, None
        if link is not None:
            await link.aclose()
        self._answer_all()

    async def call(self, script: str, keys: SlotKeys, args: Sequence[Arg]) -> Any:
        """Run `script` after every call made before it; its answer, or None when Redis is
        unreachable."""
        if not self.available:
            return None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue(Call(script, keys, args, answer))
        return await answer

    def send(self, script: str, keys: SlotKeys, args: Sequence[Arg]) -> None:
        """Run `script` after every call made before it, without waiting for it (dropped while
        Redis is unreachable)."""
        if self.available:
            self._queue(Call(script, keys, args))

    async def flushed(self) -> None:
        """Wait until every call made so far has been run (or dropped by an outage)."""
        await self.call(PING, NO_KEYS, ())

    def _queue(self, call: Call) -> None:
        self._pending.append(call)
        if not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Write what this turn of the loop queued (kept for later while a dropped connection
        is being replaced)."""
        self._flush_due = False
        if self._link is not None and self._pending:
            batch, self._pending = self._pending, []
            try:
                self._link.write(batch)
            except Exception:  # a bug of ours must not leave admissions waiting forever
                log.error("state store batch failed", calls=len(batch), exc_info=True)
                for call in batch:
                    call.resolve(None)

    async def _open(self) -> Link:
        if self._address is None:
            return await ClusterLink.open(self.url, SCRIPTS, self._timeout_s, self._dropped)
        return await RedisLink.open(self._address, SCRIPTS, self._timeout_s, self._dropped)

    def _dropped(self, exc: BaseException) -> None:
        """The link ended (what it held is answered None): replace it at once; only when
        that fails is Redis away."""
        self._link = None
        if self._closed or (self._connecting is not None and not self._connecting.done()):
            return
        self._connecting = create_task(self._reconnecting(exc), name="state-store-reconnect")

    async def _reconnecting(self, exc: BaseException | None = None) -> None:
        """Connect again: at once after a drop (`exc` given), then every `retry_s` once Redis
        counts as away."""
        while True:
            if exc is None:
                await asyncio.sleep(self._retry_s)
            try:
                link = await self._open()
            except OUTAGE as failed:
                if exc is not None:
                    self._lost(failed, reconnecting=True)
                    exc = None
                continue
            self._link = link
            if not self.available:
                log.info("state store reachable again: limits are shared again")
                self._set_available(True)
            self._flush()
            return

    def _answer_all(self) -> None:
        pending, self._pending = self._pending, []
        for call in pending:
            call.resolve(None)

    def _lost(self, exc: BaseException, *, reconnecting: bool = False) -> None:
        """Redis is away: say so, answer what waits with None, and try again later."""
        self._answer_all()
        log.warning(
            "state store unavailable: serving on local state",
            error=str(exc) or type(exc).__name__,
        )
        self._set_available(False)
        if not reconnecting:
            self._connecting = create_task(self._reconnecting(), name="state-store-reconnect")

    def _set_available(self, available: bool) -> None:
        changed = available != self.available
        self.available = available
        if changed:
            for listener in self._listeners:
                listener(available)
