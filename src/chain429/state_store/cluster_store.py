"""The shared limit state on a Redis Cluster (`settings.stateStore: redis+cluster://...`): the
`StateStore` of a cluster, over `cluster.ClusterClient`.

It keeps the one-server store's promises (`redis_store`). Admissions wait for their answer;
header reports, releases and cooldowns are writes nobody waits for. All of them go through
one queue, and a batch is sent once the one before it is answered, so a slot's calls run in
the order they were made (a report sent before an admission is applied before it), while the
masters of different slots are asked together.

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
from typing import Any, Final

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chain429.config.cluster_url import parse_cluster_url
from chain429.state_store.cluster import NO_KEYS, PING, ClusterCall, ClusterClient
from chain429.state_store.names import SlotKeys
from chain429.state_store.redis_store import RETRY_S, SCRIPTS, TIMEOUT_S, Arg
from chain429.tasks import create_task

log = structlog.get_logger("chain429.state_store")

_OUTAGE: Final = (RedisConnectionError, RedisTimeoutError, OSError)


class ClusterStore:
    """One proxy's connections to the shared state on a Redis Cluster; see the module
    docstring."""

    def __init__(self, url: str, *, retry_s: float = RETRY_S, timeout_s: float = TIMEOUT_S) -> None:
        self._cluster = ClusterClient(parse_cluster_url(url), SCRIPTS, timeout_s)
        self._retry_s = retry_s
        self._pending: list[ClusterCall] = []
        self._wake = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[bool], None]] = []
        self.available = False

    def on_change(self, listener: Callable[[bool], None]) -> None:
        """Call `listener` with `available` each time the cluster goes away or comes back."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Learn the cluster and load the scripts; an unusable cluster is an outage, not a
        failure (the proxy starts on local state and shares once the cluster is whole)."""
        self._sender = create_task(self._send(), name="state-store")
        try:
            await self._prepare()
        except _OUTAGE as exc:
            self._lost(exc)
            return
        self._set_available(True)

    async def close(self) -> None:
        self._set_available(False)
        for task in (self._sender, self._reconnect):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        _answer_none(self._pending)
        self._pending = []
        await self._cluster.aclose()

    async def call(self, script: str, keys: SlotKeys, args: Sequence[Arg]) -> Any:
        """Run `script` after every call made before it on its slot; its answer, or None when
        the cluster cannot be used."""
        if not self.available:
            return None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(ClusterCall(script, keys, args, answer))
        self._wake.set()
        return await answer

    def send(self, script: str, keys: SlotKeys, args: Sequence[Arg]) -> None:
        """Run `script` after every call made before it on its slot, without waiting for it
        (dropped while the cluster cannot be used)."""
        if self.available:
            self._pending.append(ClusterCall(script, keys, args))
            self._wake.set()

    async def flushed(self) -> None:
        """Wait until every call made so far has been run (or dropped by an outage)."""
        await self.call(PING, NO_KEYS, ())

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                answers = _checked(batch, await self._cluster.run(batch))
            except _OUTAGE as exc:
                self._lost(exc)
                _answer_none(batch)
                continue
            except Exception:  # a bug of ours must not leave admissions waiting forever
                log.error("state store batch failed", calls=len(batch), exc_info=True)
                _answer_none(batch)
                continue
            for call, answer in zip(batch, answers, strict=True):
                if call.answer is not None and not call.answer.done():
                    call.answer.set_result(answer)

    async def _prepare(self) -> None:
        """Check the cluster is whole and load the scripts on every master; any error a node
        answers is an outage too (a cluster that cannot run the scripts cannot share)."""
        try:
            await self._cluster.ensure_ok()
            await self._cluster.load(self._cluster.masters)
        except _OUTAGE:
            raise
        except RedisError as exc:
            raise RedisConnectionError(str(exc)) from exc

    def _lost(self, exc: BaseException) -> None:
        _answer_none(self._pending)
        self._pending = []
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
                await self._prepare()
            except _OUTAGE:
                continue
            log.info("state store reachable again: limits are shared again")
            self._set_available(True)
            return

    def _set_available(self, available: bool) -> None:
        changed = available != self.available
        self.available = available
        if changed:
            for listener in self._listeners:
                listener(available)


def _checked(batch: list[ClusterCall], answers: list[Any]) -> list[Any]:
    """`answers` with the errors a node answered in place of a call replaced by None (logged),
    and an outage answered raised."""
    for i, answer in enumerate(answers):
        if isinstance(answer, RedisError):
            if isinstance(answer, _OUTAGE):
                raise answer
            log.error("state store script failed", script=batch[i].script, error=str(answer))
            answers[i] = None
    return answers


def _answer_none(calls: list[ClusterCall]) -> None:
    for call in calls:
        if call.answer is not None and not call.answer.done():
            call.answer.set_result(None)
