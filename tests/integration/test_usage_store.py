from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from chain429.usage.schema import ATTEMPTS, REQUESTS
from chain429.usage.store import UsageStore, UsageStoreError
from tests.support.polling import eventually
from tests.support.usage_db import (
    stored_request_ids,
    write_lock_held,
    write_transactions_begun,
    writer_threads,
)
from tests.support.usage_records import exhausted, open_store, served

SECRET = "sk-live-0123456789abcdefghijklmnop"
#: How long closing may take with a write stuck in the database, which would hold it for
#: SQLite's `busy_timeout` (10 s) if closing queued behind it.
PROMPT_CLOSE_S = 3.0


async def test_insert_writes_requests_with_their_attempts(usage_database: str) -> None:
    async with open_store(usage_database) as store:
        skipped = await store.insert(
            [served("a", fallen_from=("cerebras",), ttft_ms=40.0), exhausted("b")]
        )
        requests = await store.read(lambda c: c.execute(select(REQUESTS)).mappings().all())
        attempts = await store.read(
            lambda c: (
                c.execute(select(ATTEMPTS).order_by(ATTEMPTS.c.request_id, ATTEMPTS.c.position))
                .mappings()
                .all()
            )
        )
    assert skipped == 0
    by_id = {r["request_id"]: r for r in requests}
    assert by_id["a"]["provider_id"] == "groq" and by_id["a"]["attempt_count"] == 2
    assert by_id["a"]["ttft_ms"] == 40.0 and by_id["a"]["streamed"] is True
    assert by_id["b"]["provider_id"] is None and by_id["b"]["status"] == 429
    assert by_id["b"]["error_class"] == "all_exhausted"
    assert [(a["request_id"], a["position"], a["outcome"]) for a in attempts] == [
        ("a", 0, "rate_limited"),
        ("a", 1, "served"),
        ("b", 0, "skipped"),
        ("b", 1, "rate_limited"),
    ]


async def test_a_duplicate_request_id_is_skipped_not_the_batch(usage_database: str) -> None:
    async with open_store(usage_database) as store:
        await store.insert([served("dup")])
        skipped = await store.insert([served("x"), served("dup"), served("y")])
        ids = await store.read(lambda c: c.execute(select(REQUESTS.c.request_id)).scalars().all())
    assert skipped == 1
    assert sorted(ids) == ["dup", "x", "y"]


async def test_reads_and_writes_on_a_closed_store_raise_a_chain429_error(
    usage_database: str,
) -> None:
    store = UsageStore(usage_database)
    with pytest.raises(UsageStoreError):
        await store.read(lambda c: 1)
    await store.open()
    await store.close()
    with pytest.raises(UsageStoreError):
        await store.insert([served("r")])
    await store.close()


async def test_database_errors_are_translated(usage_database: str) -> None:
    async with open_store(usage_database) as store:
        with pytest.raises(UsageStoreError, match="read failed"):
            await store.read(lambda c: c.exec_driver_sql("SELECT * FROM missing").all())


async def test_an_unusable_path_fails_open_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = UsageStore(blocker / "u.db")
    with pytest.raises(UsageStoreError):
        await store.open()


@pytest.mark.parametrize(
    "unstorable",
    [served("huge", tokens=(2**70, 1)), served("surrogate", requested_model="\ud800")],
    ids=["int-past-64-bits", "unencodable-text"],
)
async def test_a_record_the_database_cannot_hold_is_skipped_not_its_batch(
    usage_database: str, unstorable
) -> None:
    async with open_store(usage_database) as store:
        skipped = await store.insert([served("a"), unstorable, served("b")])
        assert await store.insert([unstorable]) == 1
        ids = await store.read(
            lambda c: [r[0] for r in c.exec_driver_sql("SELECT request_id FROM requests")]
        )
    assert skipped == 1
    assert sorted(ids) == ["a", "b"]


async def opened(path: str | Path) -> tuple[UsageStore, threading.Thread]:
    """An open store at `path` (or URL) and its writer thread."""
    before = writer_threads()
    store = UsageStore(path)
    await store.open()
    (writer,) = writer_threads() - before
    return store, writer


def _children() -> set[int]:
    tasks = Path("/proc/self/task").iterdir()
    return {int(pid) for task in tasks for pid in (task / "children").read_text().split()}


async def test_the_store_writes_in_its_own_process(tmp_path: Path) -> None:
    before = _children()
    async with open_store(tmp_path / "u.db") as store:
        await store.insert([served("a")])
        assert _children() == before, "no insert process"


async def test_closing_the_store_ends_its_writer_thread(usage_database: str) -> None:
    store, writer = await opened(usage_database)
    await store.close()
    assert not writer.is_alive()


ENDLESS = {
    "sqlite": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
    "SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(3600)",
}


async def test_closing_the_store_interrupts_a_write_still_running(usage_database: str) -> None:
    store, writer = await opened(usage_database)
    running = threading.Event()

    def endless(connection: Connection) -> None:
        running.set()
        connection.exec_driver_sql(ENDLESS[connection.dialect.name]).scalar()

    write = asyncio.ensure_future(store.write(endless))
    await eventually(running.is_set, what="the endless write runs")
    async with asyncio.timeout(PROMPT_CLOSE_S):
        await store.close()
    assert not writer.is_alive(), "the interrupted write ended and the thread with it"
    with pytest.raises(UsageStoreError, match="write failed"):
        await write


async def test_closing_the_store_does_not_wait_behind_an_insert_stuck_on_the_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "u.db"
    store, writer = await opened(path)
    with write_lock_held(path), write_transactions_begun() as begun:
        insert = asyncio.ensure_future(store.insert([served("a")]))
        await eventually(begun.is_set, what="the insert waits for the write lock")
        async with asyncio.timeout(PROMPT_CLOSE_S):
            await store.close()
            with pytest.raises(UsageStoreError, match="closed before the write was committed"):
                await insert
        assert writer.is_alive(), "left waiting for the lock"
    # The lock is free: the abandoned insert gets it, and rolls back instead of committing.
    await eventually(lambda: not writer.is_alive(), what="the abandoned writer ends")
    assert stored_request_ids(path) == set()
