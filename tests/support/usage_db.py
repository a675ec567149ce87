"""What the usage layer recorded, read back two ways: through the statistics API of a running
proxy (polled under a deadline, since records are written in batches) and straight from the
SQLite file (or, through `database_engine`, from either database)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import Engine, create_engine, event

from chain429.config.schema import is_database_url
from chain429.usage.postgres import engine_url
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY

POLL_INTERVAL_S = 0.02


def usage_settings(db_path: str | Path, **more: Any) -> dict[str, Any]:
    """Settings that turn recording on, into the SQLite file at `db_path` (or the PostgreSQL
    database at that URL)."""
    if isinstance(db_path, str) and is_database_url(db_path):
        return {"recordUsage": True, "database": db_path, **more}
    return {"recordUsage": True, "dbPath": str(db_path), **more}


async def request_log(
    http: aiohttp.ClientSession, base_url: str, *, key: str = CLIENT_KEY, query: str = ""
) -> list[dict[str, Any]]:
    """Every row of `/api/stats/requests` (newest first), following the cursor to the end."""
    rows: list[dict[str, Any]] = []
    cursor = ""
    while True:
        url = f"{base_url}/api/stats/requests?limit=200&cursor={cursor}{query}"
        async with http.get(url, headers={"Authorization": f"Bearer {key}"}) as response:
            assert response.status == 200, await response.text()
            page = await response.json()
        rows.extend(page["data"])
        if page["nextCursor"] is None:
            return rows
        cursor = page["nextCursor"]


async def logged_request(
    http: aiohttp.ClientSession,
    base_url: str,
    request_id: str,
    *,
    key: str = CLIENT_KEY,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """The request log row (with its attempts) of `request_id`, once the writer stored it."""

    async def row() -> dict[str, Any] | None:
        rows = await request_log(http, base_url, key=key)
        return next((r for r in rows if r["requestId"] == request_id), None)

    return await eventually(
        row, timeout=timeout, what=f"{request_id} in the request log", interval=POLL_INTERVAL_S
    )


async def logged_rows(
    http: aiohttp.ClientSession, base_url: str, count: int, *, timeout: float = 5.0
) -> list[dict[str, Any]]:
    """`request_log` once it holds exactly `count` rows (after the writer or the pruner ran)."""

    async def rows_if_complete() -> list[dict[str, Any]] | None:
        rows = await request_log(http, base_url)
        return rows if len(rows) == count else None

    return await eventually(
        rows_if_complete, timeout=timeout, what=f"{count} rows logged", interval=POLL_INTERVAL_S
    )


def query(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of `sql` run directly on the SQLite file (readers never block the proxy's writer)."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(sql, params)]


def stored_request(db_path: Path, request_id: str) -> dict[str, Any] | None:
    """The `requests` row of `request_id` with an `attempts` list, or None if it is not there."""
    rows = query(db_path, "SELECT * FROM requests WHERE request_id = ?", (request_id,))
    if not rows:
        return None
    (row,) = rows
    row["attempts"] = query(
        db_path, "SELECT * FROM attempts WHERE request_id = ? ORDER BY position", (request_id,)
    )
    return row


def stored_request_ids(db_path: Path) -> set[str]:
    return {row["request_id"] for row in query(db_path, "SELECT request_id FROM requests")}


async def wait_until_stored(
    db_path: Path, request_id: str, *, timeout: float = 5.0
) -> dict[str, Any]:
    """`stored_request`, polled until the batched writer has committed it."""
    return await eventually(
        lambda: stored_request(db_path, request_id),
        timeout=timeout,
        what=f"{request_id} stored",
        interval=POLL_INTERVAL_S,
    )


WRITER_THREAD = "chain429-usage-writer"


def writer_threads() -> set[threading.Thread]:
    """The usage stores' writer threads alive now."""
    return {t for t in threading.enumerate() if t.name == WRITER_THREAD and t.is_alive()}


@contextlib.contextmanager
def write_lock_held(db_path: Path) -> Iterator[None]:
    """Another connection holds SQLite's write lock on `db_path` until the block ends: the
    store's writes wait for it (for their `busy_timeout`), and no interrupt ends that wait."""
    with contextlib.closing(sqlite3.connect(db_path, isolation_level=None)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")


@contextlib.contextmanager
def write_transactions_begun() -> Iterator[threading.Event]:
    """An event set when a store's writer thread next begins a write transaction."""
    begun = threading.Event()

    def seen(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement == "BEGIN IMMEDIATE" and threading.current_thread().name == WRITER_THREAD:
            begun.set()

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        yield begun
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


class WriterPragmas:
    """Runs a PRAGMA on the usage stores' write connection just before its next write
    transaction begins: SQLite's own switches put a real database in a failing state and take
    it out again (`query_only` makes it read-only, `max_page_count` full, `busy_timeout` short).
    Use as a context manager; `set(pragma)` queues the next one."""

    def __init__(self) -> None:
        self._pending: list[str] = []
        self.applied = threading.Event()

    def set(self, *pragmas: str) -> None:
        self.applied.clear()
        self._pending = list(pragmas)

    def __enter__(self) -> WriterPragmas:
        event.listen(Engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._seen)

    def _seen(self, connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement != "BEGIN IMMEDIATE" or threading.current_thread().name != WRITER_THREAD:
            return
        pending, self._pending = self._pending, []
        for pragma in pending:
            connection.connection.dbapi_connection.execute(pragma)
        if pending:
            self.applied.set()


READ_ONLY = "PRAGMA query_only=1"
WRITABLE = "PRAGMA query_only=0"
#: SQLite clamps the page limit to the database's current size: no page more can be added.
FULL = "PRAGMA max_page_count=1"
ROOMY = "PRAGMA max_page_count=1073741823"


@contextlib.contextmanager
def database_engine(database: str | Path) -> Iterator[Engine]:
    """An engine on a usage database (an SQLite file or a PostgreSQL URL), disposed afterwards."""
    if isinstance(database, str) and is_database_url(database):
        engine = create_engine(engine_url(database))
    else:
        engine = create_engine(f"sqlite:///{database}")
    try:
        yield engine
    finally:
        engine.dispose()
