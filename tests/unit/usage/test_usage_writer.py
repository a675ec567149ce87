from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import func, select

from chain429.usage.records import RequestRecord
from chain429.usage.schema import REQUESTS
from chain429.usage.store import UsageStore
from chain429.usage.writer import BatchWriter
from tests.support.polling import eventually
from tests.unit.usage.usage_records import open_store, served


async def _count(store: UsageStore) -> int:
    return await store.read(
        lambda c: c.execute(select(func.count()).select_from(REQUESTS)).scalar_one()
    )


async def _has_rows(store: UsageStore, count: int) -> bool:
    return await _count(store) == count


class GatedStore(UsageStore):
    """A store whose inserts wait for `gate` and whose batch sizes are kept in `batches`."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = asyncio.Event()
        self.batches: list[int] = []

    async def insert(self, records: Sequence[RequestRecord]) -> int:
        await self.gate.wait()
        skipped = await super().insert(records)
        self.batches.append(len(records))
        return skipped


async def test_flush_commits_everything_submitted_before_it(tmp_path: Path) -> None:
    async with open_store(tmp_path / "u.db") as store:
        writer = BatchWriter(store, batch_size=7)
        await writer.start()
        for i in range(100):
            writer.submit(served(f"r{i}"))
        await writer.flush()
        assert await _count(store) == 100
        assert writer.written == 100 and writer.queue_depth == 0
        await writer.close()


async def test_the_background_task_writes_without_being_asked(tmp_path: Path) -> None:
    async with open_store(tmp_path / "u.db") as store:
        writer = BatchWriter(store, interval=0.01)
        await writer.start()
        writer.submit(served("r1"))
        await eventually(lambda: _has_rows(store, 1))
        writer.submit(served("r2"))
        await eventually(lambda: _has_rows(store, 2))
        await writer.close()


async def test_close_flushes_every_queued_record_and_later_ones_are_dropped(tmp_path: Path) -> None:
    async with open_store(tmp_path / "u.db") as store:
        writer = BatchWriter(store, interval=60)
        await writer.start()
        for i in range(2_500):
            writer.submit(served(f"r{i}"))
        await writer.close()
        assert await _count(store) == 2_500
        writer.submit(served("late"))
        assert writer.dropped == 1
        assert await _count(store) == 2_500


async def test_records_over_the_bound_are_counted_as_dropped_never_blocking(tmp_path: Path) -> None:
    async with open_store(tmp_path / "u.db") as store:
        writer = BatchWriter(store, max_queue=10)
        for i in range(25):
            writer.submit(served(f"r{i}"))
        assert writer.dropped == 15 and writer.queue_depth == 10
        await writer.flush()
        assert await _count(store) == 10
        writer.submit(served("after"))
        assert writer.dropped == 15
        await writer.close()
        assert await _count(store) == 11


async def test_a_failing_store_is_counted_and_the_writer_keeps_going(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "u.db")
    writer = BatchWriter(store)
    writer.submit(served("lost"))
    await writer.flush()
    assert writer.failed == 1 and writer.written == 0
    await store.open()
    writer.submit(served("kept"))
    await writer.close()
    assert writer.written == 1
    assert await _count(store) == 1
    await store.close()


@asynccontextmanager
async def gated_writer(tmp_path: Path) -> AsyncIterator[tuple[GatedStore, BatchWriter]]:
    """A started writer that pauses a minute between batches, on a store behind a gate."""
    store = GatedStore(tmp_path / "u.db")
    await store.open()
    writer = BatchWriter(store, interval=60)
    await writer.start()
    try:
        yield store, writer
    finally:
        store.gate.set()
        await writer.close()
        await store.close()


async def test_records_arriving_during_a_write_wait_for_the_next_turn(tmp_path: Path) -> None:
    # Writing them at once would turn a busy second into many small transactions.
    async with gated_writer(tmp_path) as (store, writer):
        writer.submit(served("first"))
        await eventually(lambda: writer.queue_depth == 0, what="the first batch taken")
        for i in range(50):
            writer.submit(served(f"r{i}"))
        store.gate.set()
        await eventually(lambda: writer.written >= 1, what="the first turn over")
        assert writer.queue_depth == 50 and store.batches == [1], "the writer must now pause"
        await writer.close()
        assert store.batches == [1, 50]
        assert await _count(store) == 51


async def test_flush_waits_for_a_batch_already_being_written(tmp_path: Path) -> None:
    async with gated_writer(tmp_path) as (store, writer):
        writer.submit(served("in-flight"))
        await eventually(lambda: writer.queue_depth == 0, what="the batch taken")
        flushed = asyncio.ensure_future(writer.flush())
        store.gate.set()
        await flushed
        assert store.batches == [1], "flush returned before the batch in flight was written"
        assert await _count(store) == 1
