"""Retention through the app on an injected clock: requests older than `logRetentionDays` are
deleted with their attempts when the pruner runs (at start, then hourly), newer ones are kept;
and the pruner deletes a large backlog in small batches on the real store."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from chain429.app import AppOptions
from chain429.usage.retention import RetentionPruner
from chain429.usage.store import UsageStore
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.upstream import ok
from tests.support.usage_db import logged_rows, query, usage_settings

DAY = 86_400.0
T0 = 1_800_000_000.0


async def record_at(http, server, clock: FakeClock, *times: float) -> list[str]:
    """One request per time in `times` (the clock set to it first); their request ids."""
    ids = []
    for when in times:
        clock.set(when)
        answer = await chat(http, server)
        assert answer.status == 200
        ids.append(answer.headers["X-Request-Id"])
    return ids


async def test_restart_prunes_what_is_older_than_the_retention(
    upstream_factory, proxy_factory, http, tmp_path: Path
):
    upstream = await upstream_factory(ok())
    db = tmp_path / "u.db"
    config = make_config(
        [("a", upstream.base_url)], settings=usage_settings(db, logRetentionDays=30)
    )
    clock = FakeClock(T0)
    first = await proxy_factory(config, AppOptions(clock=clock))
    old, kept = await record_at(http, first, clock, T0, T0 + 20 * DAY)
    await first.stop()
    assert [r["started_at"] for r in query(db, "SELECT started_at FROM requests")] == [
        T0,
        T0 + 20 * DAY,
    ]

    second = await proxy_factory(config, AppOptions(clock=FakeClock(T0 + 31 * DAY)))
    rows = await logged_rows(http, second.url, 1)
    assert [r["requestId"] for r in rows] == [kept]
    assert query(db, "SELECT request_id FROM attempts") == [{"request_id": kept}]
    assert old not in {r["requestId"] for r in rows}


async def test_a_backlog_is_pruned_in_batches_on_the_real_store(
    upstream_factory, proxy_factory, http, tmp_path: Path
):
    upstream = await upstream_factory(ok())
    db = tmp_path / "u.db"
    config = make_config([("a", upstream.base_url)], settings=usage_settings(db))
    clock = FakeClock(T0)
    server = await proxy_factory(config, AppOptions(clock=clock))
    old = await record_at(http, server, clock, *(T0 + i for i in range(23)))
    new = await record_at(http, server, clock, *(T0 + 10 * DAY + i for i in range(4)))
    await server.stop()

    store = UsageStore(db)
    await store.open()
    try:
        pruner = RetentionPruner(store, FakeClock(T0 + 8 * DAY), days=7, batch_size=5)
        assert await pruner.prune() == len(old)
        assert await pruner.prune() == 0
    finally:
        await store.close()
    assert {r["request_id"] for r in query(db, "SELECT request_id FROM requests")} == set(new)
    assert {r["request_id"] for r in query(db, "SELECT request_id FROM attempts")} == set(new)


async def test_stats_ranges_follow_the_injected_clock(
    upstream_factory, proxy_factory, tmp_path: Path
):
    """Record times come from the same clock the stats API measures its default range with."""
    upstream = await upstream_factory(ok())
    db = tmp_path / "u.db"
    config = make_config([("a", upstream.base_url)], settings=usage_settings(db))
    clock = FakeClock(T0)
    server = await proxy_factory(config, AppOptions(clock=clock))
    async with aiohttp.ClientSession() as http:
        await record_at(http, server, clock, T0 - 2 * DAY, T0 - 60)
        clock.set(T0)
        await logged_rows(http, server.url, 2)
        async with http.get(
            f"{server.url}/api/stats/totals", headers={"Authorization": f"Bearer {CLIENT_KEY}"}
        ) as response:
            body = await response.json()
    (row,) = body["data"]
    assert row["requests"] == 1
