"""The batched writer: the request path hands records over in O(1) and never waits for the disk.

`submit()` appends to an in-memory list. A background task wakes when the list is non-empty,
swaps it for an empty one and has the store write it in chunks on its writer thread; it then
pauses `interval` seconds before taking the next list, so that under load records arrive in
large cheap batches instead of one transaction per request. Records that arrive while a batch
is being written wait for the next turn: writing them at once turns a busy second into a
stream of small transactions, each rewriting the same table and index pages (measured: four
times the cost per record). Past `max_queue` waiting records, new ones are counted as dropped
(a warning when a burst of drops starts and one with the total when it ends) rather than
growing memory or slowing requests. A database that fails (read-only, locked by another
writer, full, a PostgreSQL server out of reach) costs the batches written meanwhile, counted as
dropped with the reason, and one warning when the failure starts; the next batch that commits
ends it, with one line saying recording resumed. `close()` writes everything still queued, or,
given a deadline, as much as it can by then: a shutdown must not wait on a stuck database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from enum import StrEnum
from typing import Final

import structlog

from chain429.tasks import create_task
from chain429.usage.problem import Problem
from chain429.usage.records import RequestRecord
from chain429.usage.store import UsageStore, UsageStoreError

#: Seconds between batches under load (records then arrive ~1 s late in the database).
WRITE_INTERVAL_S: Final = 1.0


class DropReason(StrEnum):
    """Why a usage record was not stored (the `reason` label of the dropped-records counter)."""

    QUEUE_FULL = "queue_full"
    WRITER_CLOSED = "writer_closed"
    READ_ONLY = "read_only"
    LOCKED = "locked"
    FULL = "full"
    DATABASE_ERROR = "database_error"
    REFUSED = "refused"
    """The database refused the record's values (a duplicate id, a number it cannot hold)."""
    GIVEN_UP = "given_up"
    """Still unwritten when the shutdown's deadline came."""
    UNAVAILABLE = "unavailable"
    """The database server (PostgreSQL) could not be reached, or hung up."""


_PROBLEM_REASONS: Final = {
    Problem.READ_ONLY: DropReason.READ_ONLY,
    Problem.LOCKED: DropReason.LOCKED,
    Problem.FULL: DropReason.FULL,
    Problem.ERROR: DropReason.DATABASE_ERROR,
    Problem.UNAVAILABLE: DropReason.UNAVAILABLE,
}


class BatchWriter:
    """A `UsageSink` that stores records through `store` in batches, off the event loop.

    Lifecycle: `await start()` after the store is open; `await flush()` waits until everything
    submitted so far is committed; `await close()` flushes and stops (later submits are dropped).
    """

    def __init__(
        self,
        store: UsageStore,
        *,
        max_queue: int = 50_000,
        batch_size: int = 1_000,
        interval: float = WRITE_INTERVAL_S,
    ) -> None:
        self._store = store
        self._max_queue = max_queue
        self._batch_size = batch_size
        self._interval = interval
        self._pending: list[RequestRecord] = []
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._burst = 0
        self._log = structlog.get_logger("chain429.usage")
        self._accepted = 0
        self._lost = 0
        self._dropped = dict.fromkeys(DropReason, 0)
        self._outage: DropReason | None = None
        self._outage_drops = 0
        self.written = 0
        self.failed = 0
        """Records the database failed to store (a subset of the dropped ones)."""

    @property
    def dropped(self) -> int:
        """Records submitted and never stored, whatever the reason."""
        return sum(self._dropped.values())

    @property
    def dropped_by_reason(self) -> Mapping[str, int]:
        """Records never stored, per `DropReason` (every reason present, zero or not)."""
        return {reason.value: count for reason, count in self._dropped.items()}

    @property
    def queue_depth(self) -> int:
        """Records submitted but not yet handed to the database."""
        return len(self._pending)

    def submit(self, record: RequestRecord) -> None:
        """Queue `record` for writing. O(1); never blocks, never raises."""
        if self._closed or len(self._pending) >= self._max_queue:
            self._count_drop()
            return
        self._pending.append(record)
        self._accepted += 1
        self._wake.set()

    def _count_drop(self) -> None:
        reason = DropReason.WRITER_CLOSED if self._closed else DropReason.QUEUE_FULL
        self._dropped[reason] += 1
        self._burst += 1
        if self._burst == 1:
            self._log.warning(
                "usage records dropped", reason=reason.value, max_queue=self._max_queue
            )

    async def start(self) -> None:
        if self._task is None:
            self._task = create_task(self._run(), name="usage-batch-writer")

    async def flush(self) -> None:
        """Return once every record submitted before the call is committed (or failed)."""
        async with self._lock:
            while self._pending:
                await self._take_and_write()
        self._end_burst()

    async def _write_queued(self) -> None:
        """Write the records queued now; those that arrive meanwhile wait for the next turn."""
        async with self._lock:
            await self._take_and_write()
        self._end_burst()

    async def _take_and_write(self) -> None:
        batch, self._pending = self._pending, []
        for start in range(0, len(batch), self._batch_size):
            await self._write(batch[start : start + self._batch_size])

    async def close(self, deadline: float | None = None) -> int:
        """Stop taking records, write every queued one, stop the background task.

        At `deadline` (event loop time) the records not yet committed are given up (counted as
        failed and logged) instead of waited for; returns how many. The batch being written is
        abandoned, not stopped: closing the store ends it.
        """
        self._closed = True
        self._stop.set()
        self._wake.set()
        try:
            async with asyncio.timeout_at(deadline):
                if self._task is not None:
                    await self._task
                await self.flush()
        except TimeoutError:
            self._give_up()
        self._task = None
        return self._lost

    def _give_up(self) -> None:
        self._pending = []
        self._lost = self._accepted - self.written - self.failed
        self.failed += self._lost
        self._dropped[DropReason.GIVEN_UP] += self._lost
        self._log.warning("usage records given up, not written", records=self._lost)

    async def _run(self) -> None:
        while not self._stop.is_set():
            await self._wake.wait()
            self._wake.clear()
            await self._write_queued()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._stop.wait()

    async def _write(self, batch: list[RequestRecord]) -> None:
        try:
            skipped = await self._store.insert(batch)
        except UsageStoreError as exc:
            self._database_failed(len(batch), _PROBLEM_REASONS[exc.problem], exc)
            return
        except Exception as exc:  # the writer must outlive any one bad batch; the error is logged
            self._database_failed(len(batch), DropReason.DATABASE_ERROR, exc)
            return
        self._database_back()
        self.written += len(batch) - skipped
        if skipped:
            self.failed += skipped
            self._dropped[DropReason.REFUSED] += skipped
            self._log.warning("usage records refused by the database", records=skipped)

    def _database_failed(self, records: int, reason: DropReason, exc: Exception) -> None:
        """Count a batch the database failed to store; say so once per failure of the database
        (a new reason is a new failure), not once per batch."""
        self.failed += records
        self._dropped[reason] += records
        if self._outage is not reason:
            self._outage, self._outage_drops = reason, 0
            said = "usage database failing: records are dropped until it comes back"
            if isinstance(exc, UsageStoreError):
                self._log.warning(said, reason=reason.value, error=str(exc))
            else:  # not a database condition but a bug: keep its traceback
                self._log.warning(said, reason=reason.value, exc_info=exc)
        self._outage_drops += records

    def _database_back(self) -> None:
        if self._outage is not None:
            self._log.info(
                "usage database writable again: recording resumed",
                reason=self._outage.value,
                records_dropped=self._outage_drops,
            )
            self._outage = None

    def _end_burst(self) -> None:
        if self._burst:
            self._log.warning("usage records dropped in total", records=self._burst)
            self._burst = 0
