"""A Redis Cluster behind the shared state's queue: the calls written run in the order written
on each slot (`cluster.ClusterClient.run`: a batch once the one before it is answered, one
pipeline per master), each answered (None when it could not run, a script's failure logged),
and `on_lost` is told when the cluster can no longer be used (a node that does not answer,
`CLUSTERDOWN`): the link then ends, its calls answered None, and the store decides what next.

The interface is the one-server link's (`open`, `write`, `close`), so the store's queue and
its outages stay the store's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chain429.config.cluster_url import parse_cluster_url
from chain429.state_store.cluster import ClusterClient, QueuedCall
from chain429.tasks import create_task, stop

log = structlog.get_logger("chain429.state_store")

_OUTAGE: Final = (RedisConnectionError, RedisTimeoutError, OSError)


class ClusterLink:
    """The calls of one store on a Redis Cluster; see the module docstring. Made by `open`."""

    def __init__(self, cluster: ClusterClient, on_lost: Callable[[BaseException], None]) -> None:
        self._cluster = cluster
        self._on_lost = on_lost
        self._written: list[QueuedCall] = []
        self._running: list[QueuedCall] = []
        self._wake = asyncio.Event()
        self._sender = create_task(self._send(), name="state-store-cluster")

    @classmethod
    async def open(
        cls,
        url: str,
        scripts: Mapping[str, str],
        timeout_s: float,
        on_lost: Callable[[BaseException], None],
    ) -> ClusterLink:
        """Learn the masters, check the cluster is whole and load the scripts on every master;
        `ConnectionError` (an `OSError`) when it cannot be used: a node out of reach, or any
        error a node answers (a cluster that cannot run the scripts cannot share the limits)."""
        cluster = ClusterClient(parse_cluster_url(url), scripts, timeout_s)
        try:
            await cluster.ensure_ok()
            await cluster.load(cluster.masters)
        except BaseException as exc:  # cancelled too: no connection is left open
            await cluster.aclose()
            if isinstance(exc, RedisError | OSError):
                raise ConnectionError(str(exc) or type(exc).__name__) from exc
            raise
        return cls(cluster, on_lost)

    def write(self, calls: Sequence[QueuedCall]) -> None:
        self._written.extend(calls)
        self._wake.set()

    def close(self) -> None:
        """End the link now; its connections close in a task of their own (`aclose` waits
        for them)."""
        self._sender.cancel()
        self._end()
        create_task(self._cluster.aclose(), name="state-store-cluster-close")

    async def aclose(self) -> None:
        """End the link and close its connections."""
        await stop(self._sender)
        self._end()
        await self._cluster.aclose()

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._running, self._written = self._written, []
            if not self._running:
                continue
            try:
                answers = await self._cluster.run(self._running)
                for call, answer in zip(self._running, answers, strict=True):
                    _resolve(call, _checked(call, answer))
            except _OUTAGE as exc:  # told first: no caller hears None while it still shares
                self._on_lost(exc)
                self._end()
                await self._cluster.aclose()
                return
            except Exception:  # a bug of ours must not leave admissions waiting forever
                log.error("state store batch failed", calls=len(self._running), exc_info=True)
            _answer_none(self._running)
            self._running = []

    def _end(self) -> None:
        _answer_none(self._running)
        _answer_none(self._written)
        self._running, self._written = [], []


def _checked(call: QueuedCall, answer: Any) -> Any:
    """`answer`, None for an error a node answered in its place (logged), raised when that
    error is an outage."""
    if not isinstance(answer, RedisError):
        return answer
    if isinstance(answer, _OUTAGE):
        raise answer
    log.error("state store script failed", script=call.script, error=str(answer))
    return None


def _resolve(call: QueuedCall, answer: Any) -> None:
    if call.answer is not None and not call.answer.done():
        call.answer.set_result(answer)


def _answer_none(calls: list[QueuedCall]) -> None:
    for call in calls:
        _resolve(call, None)
