"""The usage database failing under a running writer: made read-only, full, or locked by another
writer. Each batch written meanwhile is counted as dropped with the reason, the log says so once
per failure (not once per batch), and once the database comes back the next batch is stored and
the log says recording resumed."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from chain429.usage.store import UsageStore
from chain429.usage.writer import BatchWriter
from tests.support.usage_db import (
    FULL,
    READ_ONLY,
    ROOMY,
    WRITABLE,
    WriterPragmas,
    stored_request_ids,
    write_lock_held,
)
from tests.support.usage_records import served

FAILING = "usage database failing: records are dropped until it comes back"
RESUMED = "usage database writable again: recording resumed"
#: More records than the pages a fresh database has room for, so a full database refuses them.
BATCH = 300


def said(logs: list[dict], event: str) -> list[dict]:
    return [line for line in logs if line["event"] == event]


async def write_batch(writer: BatchWriter, name: str, size: int = BATCH) -> None:
    for i in range(size):
        writer.submit(served(f"{name}-{i}"))
    await writer.flush()


@pytest.mark.parametrize(
    ("failing", "back", "reason"),
    [(READ_ONLY, WRITABLE, "read_only"), (FULL, ROOMY, "full")],
    ids=["read-only", "full"],
)
async def test_a_failing_database_drops_batches_says_so_once_and_resumes(
    tmp_path: Path, failing: str, back: str, reason: str
) -> None:
    path = tmp_path / "u.db"
    store = UsageStore(path)
    await store.open()
    writer = BatchWriter(store, interval=60)
    with WriterPragmas() as pragmas, capture_logs() as logs:
        await write_batch(writer, "before", 1)
        pragmas.set(failing)
        for turn in range(3):
            await write_batch(writer, f"lost{turn}")
        assert writer.dropped_by_reason[reason] == 3 * BATCH
        assert writer.written == 1
        (warning,) = said(logs, FAILING)
        assert warning["reason"] == reason and warning["log_level"] == "warning"
        assert not said(logs, RESUMED)

        pragmas.set(back)
        await write_batch(writer, "after", 2)
        (resumed,) = said(logs, RESUMED)
        assert resumed["reason"] == reason and resumed["records_dropped"] == 3 * BATCH
    await writer.close()
    await store.close()
    assert stored_request_ids(path) == {"before-0", "after-0", "after-1"}
    assert writer.dropped == 3 * BATCH and writer.failed == 3 * BATCH


async def test_a_database_locked_by_another_writer_drops_batches_until_released(
    tmp_path: Path,
) -> None:
    path = tmp_path / "u.db"
    store = UsageStore(path, busy_timeout_s=0.05)
    await store.open()
    writer = BatchWriter(store, interval=60)
    with capture_logs() as logs:
        with write_lock_held(path):
            await write_batch(writer, "lost0", 2)
            await write_batch(writer, "lost1", 3)
        assert writer.dropped_by_reason["locked"] == 5
        (warning,) = said(logs, FAILING)
        assert "database is locked" in warning["error"]
        await write_batch(writer, "after", 1)
        (resumed,) = said(logs, RESUMED)
        assert resumed["records_dropped"] == 5
    await writer.close()
    await store.close()
    assert stored_request_ids(path) == {"after-0"}


async def test_a_new_kind_of_failure_is_said_again(tmp_path: Path) -> None:
    path = tmp_path / "u.db"
    store = UsageStore(path, busy_timeout_s=0.05)
    await store.open()
    writer = BatchWriter(store, interval=60)
    with WriterPragmas() as pragmas, capture_logs() as logs:
        pragmas.set(READ_ONLY)
        await write_batch(writer, "read-only", 1)
        pragmas.set(WRITABLE, FULL)
        await write_batch(writer, "full")
        await write_batch(writer, "full-again")
        assert [line["reason"] for line in said(logs, FAILING)] == ["read_only", "full"]
        pragmas.set(ROOMY)
        await write_batch(writer, "after", 1)
    await writer.close()
    await store.close()
    assert writer.dropped_by_reason["read_only"] == 1
    assert writer.dropped_by_reason["full"] == 2 * BATCH
    assert stored_request_ids(path) == {"after-0"}
