from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from chain429.usage.schema import ATTEMPTS, REQUESTS
from chain429.usage.store import UsageStore, UsageStoreError
from tests.unit.usage.usage_records import exhausted, open_store, served

SECRET = "sk-live-0123456789abcdefghijklmnop"


async def test_insert_writes_requests_with_their_attempts(tmp_path: Path) -> None:
    async with open_store(tmp_path / "u.db") as store:
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


async def test_a_duplicate_request_id_is_skipped_not_the_batch(tmp_path: Path) -> None:
    async with open_store(tmp_path / "u.db") as store:
        await store.insert([served("dup")])
        skipped = await store.insert([served("x"), served("dup"), served("y")])
        ids = await store.read(lambda c: c.execute(select(REQUESTS.c.request_id)).scalars().all())
    assert skipped == 1
    assert sorted(ids) == ["dup", "x", "y"]


async def test_reads_and_writes_on_a_closed_store_raise_a_chain429_error(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "u.db")
    with pytest.raises(UsageStoreError):
        await store.read(lambda c: 1)
    await store.open()
    await store.close()
    with pytest.raises(UsageStoreError):
        await store.insert([served("r")])
    await store.close()


async def test_database_errors_are_translated(tmp_path: Path) -> None:
    async with open_store(tmp_path / "u.db") as store:
        with pytest.raises(UsageStoreError, match="read failed"):
            await store.read(lambda c: c.exec_driver_sql("SELECT * FROM missing").all())


async def test_an_unusable_path_fails_open_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = UsageStore(blocker / "u.db")
    with pytest.raises(UsageStoreError):
        await store.open()
