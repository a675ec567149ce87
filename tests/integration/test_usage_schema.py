from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from chain429.config.schema import is_database_url
from chain429.usage import series
from chain429.usage.migrate import (
    HEAD_REVISION,
    MIGRATIONS_DIR,
    current_revision,
    head_revision,
    upgrade_to,
    upgrade_to_head,
)
from chain429.usage.schema import ATTEMPTS, METADATA, REQUESTS
from chain429.usage.series import BucketSize, GroupBy, TimeRange
from tests.support.postgres import PostgresServer
from tests.support.usage_db import database_engine
from tests.support.usage_records import open_store


def _inspect(
    database: str | Path,
) -> tuple[dict[str, set[str]], dict[str, set[str | None]], str | None]:
    with database_engine(database) as engine, engine.connect() as connection:
        inspector = inspect(connection)
        columns = {
            t: {c["name"] for c in inspector.get_columns(t)} for t in ("requests", "attempts")
        }
        indexes = {
            t: {i["name"] for i in inspector.get_indexes(t)} for t in ("requests", "attempts")
        }
        return columns, indexes, current_revision(connection)


def _nested(database: str) -> str:
    """An SQLite file in directories that do not exist yet (the store creates them)."""
    if is_database_url(database):
        return database
    path = Path(database)
    return str(path.parent / "nested" / "dir" / path.name)


async def test_open_migrates_an_empty_database_to_the_schema_in_schema_py(
    usage_database: str,
) -> None:
    path = _nested(usage_database)
    async with open_store(path):
        pass
    columns, indexes, revision = _inspect(path)
    assert columns["requests"] == {c.name for c in REQUESTS.columns}
    assert columns["attempts"] == {c.name for c in ATTEMPTS.columns}
    assert indexes["requests"] == {i.name for i in REQUESTS.indexes}
    # One secondary index on requests: each one is paid on every insert.
    assert indexes["requests"] == {"ix_requests_started_at"}
    assert revision == head_revision() is not None


async def test_open_is_idempotent_and_keeps_rows(usage_database: str) -> None:
    path = usage_database
    async with open_store(path) as store:
        await store.write(lambda c: c.execute(REQUESTS.insert(), [_request_row("r1")]))
    async with open_store(path) as store:
        count = await store.read(lambda c: c.execute(REQUESTS.select()).all())
    assert len(count) == 1


async def test_a_database_from_an_older_version_is_migrated_and_keeps_its_rows(
    usage_database: str,
) -> None:
    path = usage_database
    with database_engine(path) as engine, engine.begin() as connection:
        upgrade_to(connection, "0002")  # the schema 429chain shipped before 0003
        connection.execute(REQUESTS.insert(), [_request_row("old")])
    assert "ix_requests_chain_started_at" in _inspect(path)[1]["requests"]
    async with open_store(path) as store:
        rows = await store.read(lambda c: c.execute(REQUESTS.select()).all())
    _, indexes, revision = _inspect(path)
    assert [row.request_id for row in rows] == ["old"]
    assert indexes["requests"] == {"ix_requests_started_at"}
    assert revision == head_revision()


async def test_wal_mode_is_on(tmp_path: Path) -> None:
    async with open_store(tmp_path / "usage.db") as store:
        mode = await store.read(lambda c: c.exec_driver_sql("PRAGMA journal_mode").scalar())
    assert mode == "wal"


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert any(MIGRATIONS_DIR.joinpath("versions").glob("v*.py"))


def test_schema_compiles_for_postgresql() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    for table in METADATA.sorted_tables:
        assert "CREATE TABLE" in str(CreateTable(table).compile(dialect=dialect))
        for index in table.indexes:
            str(CreateIndex(index).compile(dialect=dialect))


@pytest.mark.parametrize("group_by", list(GroupBy))
def test_aggregate_queries_compile_for_postgresql(group_by: GroupBy) -> None:
    when = TimeRange(0, 3600)
    query, _ = series._aggregate_query(group_by, when, BucketSize.MINUTE)
    sql = str(query.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
    assert "floor(" in sql and "row_number() OVER" in sql


def _request_row(request_id: str) -> dict[str, object]:
    return {
        "request_id": request_id,
        "started_at": 1.0,
        "endpoint": "/v1/chat/completions",
        "chain": "c",
        "requested_model": "c",
        "status": 200,
        "streamed": False,
        "attempt_count": 0,
        "latency_ms": 1.0,
        "client_closed": False,
    }


def test_the_head_revision_named_in_migrate_is_alembics_head() -> None:
    # upgrade_to_head skips Alembic for a database at HEAD_REVISION: a new migration must
    # move it, or databases would never get that migration.
    assert head_revision() == HEAD_REVISION


_OPEN_AND_LIST_ALEMBIC = """
import asyncio, sys
from chain429.usage.store import UsageStore

async def main() -> None:
    store = UsageStore(sys.argv[1])
    await store.open()
    await store.close()

asyncio.run(main())
print(any(name.split(".")[0] == "alembic" for name in sys.modules))
print(any(name.split(".")[0] == "psycopg" for name in sys.modules))
"""


@pytest.mark.parametrize("existing", [True, False], ids=["at the head", "new"])
async def test_a_new_database_or_one_at_the_head_opens_without_importing_alembic(
    usage_database: str, existing: bool
) -> None:
    # Alembic and what it imports would stay resident for the life of the process (issue 14);
    # psycopg is loaded only for PostgreSQL.
    path = usage_database
    if existing:
        async with open_store(path):
            pass
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _OPEN_AND_LIST_ALEMBIC, str(path), stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(child.communicate(), timeout=60)
    assert child.returncode == 0
    alembic, psycopg = stdout.decode().split()
    assert alembic == "False"
    assert psycopg == str(is_database_url(path))


def _schema_sql(path: Path) -> list[tuple[str, str]]:
    """Each table's and index's CREATE statement, whitespace left out (a column that a
    migration added is spelled with less of it)."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    return [(name, "".join((sql or "").split())) for name, sql in rows]


def test_a_new_database_gets_the_schema_the_migrations_build(tmp_path: Path) -> None:
    migrated, created = tmp_path / "migrated.db", tmp_path / "created.db"
    for path, build in ((migrated, lambda c: upgrade_to(c, "head")), (created, upgrade_to_head)):
        engine = create_engine(f"sqlite:///{path}")
        try:
            with engine.begin() as connection:
                build(connection)
        finally:
            engine.dispose()
    assert _schema_sql(created) == _schema_sql(migrated)
    assert _inspect(created)[2] == HEAD_REVISION


def _schema(connection: Connection) -> dict[str, object]:
    """Every table's columns (name, type, nullable), primary key and indexes, as the database
    reports them."""
    inspector = inspect(connection)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            inspector.get_pk_constraint(table),
            sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
        )
        for table in sorted(inspector.get_table_names())
    }


def test_a_new_postgresql_database_gets_the_schema_the_migrations_build(
    postgres_server: PostgresServer,
) -> None:
    schemas = []
    for build in (lambda c: upgrade_to(c, "head"), upgrade_to_head):
        with postgres_server.database() as url, database_engine(url) as engine:
            with engine.begin() as connection:
                build(connection)
            with engine.connect() as connection:
                schemas.append(_schema(connection))
                assert current_revision(connection) == HEAD_REVISION
    migrated, created = schemas
    assert created == migrated
    requests_columns = {name: kind for name, kind, _ in migrated["requests"][0]}  # type: ignore[index]
    assert requests_columns["id"] == "BIGINT" and requests_columns["total_tokens"] == "BIGINT"
