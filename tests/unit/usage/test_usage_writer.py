from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import func, select

from chain429.usage.schema import REQUESTS
from chain429.usage.store import UsageStore
from chain429.usage.writer import BatchWriter
from tests.unit.usage.usage_records import open_store, served


async def _count(store: UsageStore) -> int:
    return await store.read(
        lambda c: c.execute(select(func.count()).select_from(REQUESTS)).scalar_one()
    )


async def _eventually(condition: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


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

        async def written() -> bool:
            return await _count(store) == 1

        await _eventually(written)
        writer.submit(served("r2"))

        async def both() -> bool:
            return await _count(store) == 2

        await _eventually(both)
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


async def test_submit_is_cheap(tmp_path: Path) -> None:
    async with open_store(tmp_path / "u.db") as store:
        writer = BatchWriter(store, max_queue=20_000)
        records = [served(f"r{i}") for i in range(10_000)]
        started = time.perf_counter()
        for record in records:
            writer.submit(record)
        per_submit = (time.perf_counter() - started) / len(records)
        await writer.close()
    assert per_submit < 20e-6
