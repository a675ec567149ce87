"""The shared limit state on a Redis Cluster (`settings.stateStore: redis+cluster://...`): the
`StateStore` of a cluster, its calls run by a `cluster_link.ClusterLink`.

It keeps the one-server store's promises (`redis_store`). Admissions wait for their answer;
header reports, releases and cooldowns are writes nobody waits for. All of them go through
one queue, written to the link at the end of the event loop's turn that made them, so a
slot's calls run in the order they were made (a report sent before an admission is applied
before it), while the masters of different slots are asked together.

When the cluster cannot be used (a node does not answer, or it says `CLUSTERDOWN`: with no
replica to take over, a master that stops leaves its slots unserved and the cluster refuses
every command) the store says so (`available` false, one warning in the log), answers every
admission with None (the caller serves on its local state) and drops the writes; it tries
again every `retry_s` and, once every master answers, the cluster says it is ok and the
scripts are loaded, says so and shares again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from chain429.state_store.cluster import NO_KEYS, PING, ClusterCall
from chain429.state_store.cluster_link import ClusterLink
from chain429.state_store.names import SlotKeys
from chain429.state_store.redis_store import RETRY_S, SCRIPTS, TIMEOUT_S, Arg
from chain429.tasks import create_task

log = structlog.get_logger("chain429.state_store")


class ClusterStore:
    """One proxy's connections to the shared state on a Redis Cluster; see the module
    docstring."""

    def __init__(self, url: str, *, retry_s: float = RETRY_S, timeout_s: float = TIMEOUT_S) -> None:
        self._url = url
        self._retry_s = retry_s
        self._timeout_s = timeout_s
        self._link: ClusterLink | None = None
        self._pending: list[ClusterCall] = []
        self._flush_due = False
        self._reconnect: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[bool], None]] = []
        self.available = False

    def on_change(self, listener: Callable[[bool], None]) -> None:
        """Call `listener` with `available` each time the cluster goes away or comes back."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Learn the cluster and load the scripts; an unusable cluster is an outage, not a
        failure (the proxy starts on local state and shares once the cluster is whole)."""
        try:
            self._link = await self._open()
        except OSError as exc:
            self._lost(exc)
            return
        self._set_available(True)

    async def close(self) -> None:
        self._set_available(False)
        if self._reconnect is not None:
            self._reconnect.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect
        if self._link is not None:
            await self._link.aclose()
            self._link = None
        self._answer_all()

    async def call(self, script: str, keys: SlotKeys, args: Sequence[Arg]) -> Any:
        """Run `script` after every call made before it on its slot; its answer, or None when
        the cluster cannot be used."""
        if not self.available:
            return None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue(ClusterCall(script, keys, args, answer))
        return await answer

    def send(self, script: str, keys: SlotKeys, args: Sequence[Arg]) -> None:
        """Run `script` after every call made before it on its slot, without waiting for it
        (dropped while the cluster cannot be used)."""
        if self.available:
            self._queue(ClusterCall(script, keys, args))

    async def flushed(self) -> None:
        """Wait until every call made so far has been run (or dropped by an outage)."""
        await self.call(PING, NO_KEYS, ())

    def _queue(self, call: ClusterCall) -> None:
        self._pending.append(call)
        if not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Write what this turn of the loop queued."""
        self._flush_due = False
        if self._link is not None and self._pending:
            batch, self._pending = self._pending, []
            self._link.write(batch)

    async def _open(self) -> ClusterLink:
        return await ClusterLink.open(self._url, SCRIPTS, self._timeout_s, self._lost)

    def _lost(self, exc: BaseException) -> None:
        """The cluster cannot be used: say so, answer what waits with None, try again later."""
        self._link = None
        self._answer_all()
        if self.available or self._reconnect is None or self._reconnect.done():
            log.warning(
                "state store unavailable: serving on local state",
                error=str(exc) or type(exc).__name__,
            )
        self._set_available(False)
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = create_task(self._reconnecting(), name="state-store-reconnect")

    async def _reconnecting(self) -> None:
        while True:
            await asyncio.sleep(self._retry_s)
            try:
                link = await self._open()
            except OSError:
                continue
            self._link = link
            log.info("state store reachable again: limits are shared again")
            self._set_available(True)
            return

    def _answer_all(self) -> None:
        pending, self._pending = self._pending, []
        for call in pending:
            if call.answer is not None and not call.answer.done():
                call.answer.set_result(None)

    def _set_available(self, available: bool) -> None:
        changed = available != self.available
        self.available = available
        if changed:
            for listener in self._listeners:
                listener(available)
