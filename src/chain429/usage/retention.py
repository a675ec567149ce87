"""Retention: delete usage older than `logRetentionDays`, a small batch per write transaction.

Each batch is its own short `BEGIN IMMEDIATE` on the store's writer thread, so pruning a large
backlog never holds the write lock long enough to stall record batches queued behind it. The
cut-off comes from the injected clock, so a test can jump days ahead and prune at once.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy import Connection, delete, select

from chain429.clock import Clock
from chain429.tasks import create_task
from chain429.usage.schema import ATTEMPTS, REQUESTS
from chain429.usage.store import UsageStore, UsageStoreError

SECONDS_PER_DAY = 86_400


def delete_batch(connection: Connection, cutoff: float, limit: int) -> int:
    """Delete up to `limit` requests started before `cutoff`, with their attempts."""
    rows = connection.execute(
        select(REQUESTS.c.id, REQUESTS.c.request_id)
        .where(REQUESTS.c.started_at < cutoff)
        .order_by(REQUESTS.c.started_at)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    connection.execute(delete(ATTEMPTS).where(ATTEMPTS.c.request_id.in_([r[1] for r in rows])))
    connection.execute(delete(REQUESTS).where(REQUESTS.c.id.in_([r[0] for r in rows])))
    return len(rows)


class RetentionPruner:
    """Keeps `days` days of usage; `prune()` on demand, or every `interval` seconds once started.

    `days` can be changed live (`pruner.days = n`) when the settings change.
    """

    def __init__(
        self,
        store: UsageStore,
        clock: Clock,
        *,
        days: int,
        interval: float = 3_600.0,
        batch_size: int = 500,
    ) -> None:
        self._store = store
        self._clock = clock
        self.days = days
        self._interval = interval
        self._batch_size = batch_size
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._log = structlog.get_logger("chain429.usage")

    async def prune(self) -> int:
        """Delete everything older than the retention period; returns the number of requests."""
        cutoff = self._clock.wall() - self.days * SECONDS_PER_DAY
        total = 0
        while not self._stop.is_set():
            deleted = await self._store.write(
                lambda connection: delete_batch(connection, cutoff, self._batch_size)
            )
            total += deleted
            if deleted < self._batch_size:
                break
        if total:
            self._log.info("usage pruned", requests=total, days=self.days)
        return total

    async def start(self) -> None:
        if self._task is None:
            self._task = create_task(self._run(), name="usage-retention")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.prune()
            except UsageStoreError as exc:
                self._log.warning("usage pruning failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._stop.wait()
