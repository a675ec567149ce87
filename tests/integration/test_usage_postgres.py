"""What only PostgreSQL (`settings.database`) has to show: replicas sharing one database, a
server that goes away and comes back, replicas migrating an empty database together. The rest
of the usage suite runs against both databases (the `usage_database` fixture)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Connection, func, select
from structlog.testing import capture_logs

from chain429.usage.limit_state import load_limit_state, save_limit_state
from chain429.usage.problem import Problem
from chain429.usage.schema import LIMIT_STATE, REQUESTS
from chain429.usage.store import UsageStore, UsageStoreError
from chain429.usage.writer import BatchWriter
from tests.support.client import MESSAGES
from tests.support.postgres import PostgresServer
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.tcp_relay import TcpRelay
from tests.support.upstream import ok
from tests.support.usage_db import database_engine, logged_rows, usage_settings
from tests.support.usage_records import open_store, served

FAILING = "usage database failing: records are dropped until it comes back"
RESUMED = "usage database writable again: recording resumed"
BATCH = 20
#: The server trusts loopback, so any password will do; none may appear in a log line.
PASSWORD = "pw-0123456789-secret"


def said(logs: list[dict], event: str) -> list[dict]:
    return [line for line in logs if line["event"] == event]


async def _count(store: UsageStore) -> int:
    def count(connection: Connection) -> int:
        return int(connection.execute(select(func.count()).select_from(REQUESTS)).scalar_one())

    return await store.read(count)


async def write_batch(writer: BatchWriter, name: str, size: int = BATCH) -> None:
    for i in range(size):
        writer.submit(served(f"{name}-{i}"))
    await writer.flush()


async def test_records_from_two_replicas_are_counted_together(
    upstream_factory, proxy_factory, client_factory, http, postgres_url
) -> None:
    upstream = await upstream_factory(*[ok("hi")] * 5)
    config = make_config([("a", upstream.base_url)], settings=usage_settings(postgres_url))
    replicas = [await proxy_factory(config), await proxy_factory(config)]
    for replica, requests in zip(replicas, (2, 3), strict=True):
        client = client_factory(replica)
        for _ in range(requests):
            await client.chat.completions.create(model="default", messages=MESSAGES)
    for replica in replicas:
        rows = await logged_rows(http, replica.url, 5)
        assert {row["provider"] for row in rows} == {"a"}
        async with http.get(
            f"{replica.url}/v1/stats/summary", headers={"Authorization": f"Bearer {CLIENT_KEY}"}
        ) as response:
            assert (await response.json())["summary"]["totalRequests"] == 5
    async with open_store(postgres_url) as store:
        assert await _count(store) == 5, "the rows are in PostgreSQL"


async def test_a_server_out_of_reach_drops_batches_says_so_once_and_resumes(
    postgres_server: PostgresServer,
) -> None:
    with postgres_server.database() as url:
        relay = await TcpRelay(postgres_server.port).start()
        through_relay = url.replace(
            f"@127.0.0.1:{postgres_server.port}/", f":{PASSWORD}@127.0.0.1:{relay.port}/"
        )
        store = UsageStore(through_relay)
        assert PASSWORD not in store.name and ":***@" in store.name
        await store.open()
        writer = BatchWriter(store, interval=60)
        try:
            with capture_logs() as logs:
                await write_batch(writer, "before")
                await relay.cut()
                for turn in range(3):
                    await write_batch(writer, f"lost{turn}")
                assert writer.dropped_by_reason["unavailable"] == 3 * BATCH
                with pytest.raises(UsageStoreError) as caught:
                    await _count(store)
                assert caught.value.problem is Problem.UNAVAILABLE
                await relay.restore()
                await write_batch(writer, "after")
                assert writer.written == 2 * BATCH
                assert await _count(store) == 2 * BATCH
        finally:
            await writer.close()
            await store.close()
            await relay.stop()
    (failing,) = said(logs, FAILING)
    assert failing["reason"] == "unavailable"
    assert PASSWORD not in str(logs)
    (resumed,) = said(logs, RESUMED)
    assert resumed["records_dropped"] == 3 * BATCH


async def test_replicas_starting_together_on_an_empty_database_both_open(
    postgres_url: str,
) -> None:
    stores = [UsageStore(postgres_url), UsageStore(postgres_url)]
    await asyncio.gather(*(store.open() for store in stores))
    try:
        await stores[0].insert([served("a")])
        assert await _count(stores[1]) == 1
        # One created the tables; the other waited for the migration lock and found them.
        assert sorted(store.existed for store in stores) == [False, True]
    finally:
        for store in stores:
            await store.close()


async def test_a_nul_in_a_clients_model_name_is_stored_not_refused(postgres_url: str) -> None:
    async with open_store(postgres_url) as store:
        assert await store.insert([served("nul", requested_model="gpt\x00x")]) == 0
        stored = await store.read(
            lambda c: c.execute(select(REQUESTS.c.requested_model)).scalar_one()
        )
    assert stored == "gpt\ufffdx"


async def test_a_write_waiting_for_a_lock_past_its_timeout_fails_as_locked(
    postgres_url: str,
) -> None:
    store = UsageStore(postgres_url, busy_timeout_s=0.2)
    await store.open()
    try:
        with database_engine(postgres_url) as engine, engine.begin() as other:
            other.exec_driver_sql("LOCK TABLE requests IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(UsageStoreError, match="LockNotAvailable") as caught:
                await store.insert([served("waits")])
            assert caught.value.problem is Problem.LOCKED
        assert await store.insert([served("later")]) == 0
    finally:
        await store.close()


async def test_a_read_only_database_fails_as_read_only(postgres_url: str) -> None:
    async with open_store(postgres_url) as store:

        def read_only_insert(connection: Connection) -> None:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            connection.execute(LIMIT_STATE.insert().values(id=1, saved_at=0.0, data="{}"))

        with pytest.raises(UsageStoreError) as caught:
            await store.write(read_only_insert)
        assert caught.value.problem is Problem.READ_ONLY


async def test_replicas_saving_the_limit_state_together_leave_one_snapshot(
    postgres_url: str,
) -> None:
    async with open_store(postgres_url) as first, open_store(postgres_url) as second:
        saves = [
            save_limit_state(store, {"replica": name, "turn": turn}, saved_at=float(turn))
            for turn in range(10)
            for name, store in (("first", first), ("second", second))
        ]
        await asyncio.gather(*saves)
        loaded = await load_limit_state(second)
    assert loaded["replica"] in {"first", "second"} and loaded["turn"] in range(10)
