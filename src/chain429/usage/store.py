"""The usage database: one object owns the engines, the insert worker and the writer thread.

Record batches, the bulk of all writing, are inserted by a worker process (`insert_worker`), so
that binding and stepping SQLite do not take the event loop's interpreter lock; this process
only builds the rows and hands them over, from a writer thread. The
other writes (retention deletes, the limit-state snapshot) run on that same thread. Every write
transaction begins with `BEGIN IMMEDIATE`, which takes SQLite's one write lock up front instead
of failing half way, and waits up to `busy_timeout` for the other writer. Reads run on a small
pool of their own threads in WAL mode, so they neither block the event loop nor wait for
writers. Database errors stop here and leave as `UsageStoreError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from chain429.errors import Chain429Error
from chain429.usage.db_file import DatabaseFileError, check_database_file
from chain429.usage.insert_process import InsertProcess, InsertProcessError, Statements
from chain429.usage.insert_worker import COMMITTED, REFUSED
from chain429.usage.migrate import upgrade_to_head
from chain429.usage.records import RequestRecord
from chain429.usage.rows import ATTEMPT_COLUMNS, REQUEST_COLUMNS, Row, RowBuilder
from chain429.usage.schema import ATTEMPTS, REQUESTS

T = TypeVar("T")

_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=10000")


class UsageStoreError(Chain429Error):
    """The usage database could not be opened, read or written."""


@contextlib.contextmanager
def map_database_errors(action: str) -> Iterator[None]:
    """Translate SQLAlchemy's and the insert worker's errors into `UsageStoreError`."""
    try:
        yield
    except SQLAlchemyError as exc:  # its text can quote statements and parameters
        # SQLite's own message names tables, columns and constraints, never values.
        cause = getattr(exc, "orig", None)
        said = f": {cause}" if isinstance(cause, sqlite3.Error) else ""
        raise UsageStoreError(
            f"usage database {action} failed: {type(exc).__name__}{said}"
        ) from exc
    except InsertProcessError as exc:
        raise UsageStoreError(f"usage database {action} failed: {exc}") from exc


def _sqlite_engine(path: Path, *, begin: str, pool_size: int) -> Engine:
    engine = create_engine(f"sqlite:///{path}", pool_size=pool_size, max_overflow=0)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so "begin" below decides the BEGIN flavour.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)

    return engine


class _BulkInsert:
    """Multi-row INSERT statements for one table, with their parameters, for the insert worker.

    One `INSERT ... VALUES (...), (...), ...` per chunk of rows, so the worker steps one
    statement per chunk instead of one per row. Chunks are 256, 128, ..., 1 rows: a handful of
    statements serve every batch size, and the worker keeps each one prepared. The statement
    lists `columns` in the rows' own order, with SQLite's `?` markers.
    """

    _CHUNKS: Final = (256, 128, 64, 32, 16, 8, 4, 2, 1)

    def __init__(self, table: Table, columns: tuple[str, ...], engine: Engine) -> None:
        quote = engine.dialect.identifier_preparer.quote
        head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES "
        group = f"({', '.join('?' for _ in columns)})"
        self._statements = {n: head + ", ".join([group] * n) for n in self._CHUNKS}

    def statements(self, rows: list[Row]) -> Iterator[tuple[str, tuple[Any, ...]]]:
        start = 0
        for size in self._CHUNKS:
            while len(rows) - start >= size:
                yield self._statements[size], tuple(chain.from_iterable(rows[start : start + size]))
                start += size


class UsageStore:
    """Owns the usage database at `db_path`: schema migration, batched inserts, reads.

    `open()` creates the parent directory, turns on WAL and migrates to the newest schema;
    `close()` ends an insert still running (it does not wait behind it), waits for the writer
    thread and closes every connection.
    """

    def __init__(self, db_path: str | Path, *, read_threads: int = 2) -> None:
        self.path = Path(db_path)
        self._rows: RowBuilder | None = None  # built at open, when the dialect is known
        self._read_threads = read_threads
        self._write_engine: Engine | None = None
        self._read_engine: Engine | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._insert_requests: _BulkInsert | None = None
        self._insert_attempts: _BulkInsert | None = None
        self._inserter: InsertProcess | None = None

    @property
    def insert_worker_pid(self) -> int | None:
        """The insert worker's process id while it runs (benches pin it to a core)."""
        inserter = self._inserter  # read once: the writer thread may clear it meanwhile
        return inserter.pid if inserter is not None else None

    @property
    def insert_worker_restarts(self) -> int:
        """Times the insert worker was found gone and started again since the store opened."""
        inserter = self._inserter
        return inserter.restarts if inserter is not None else 0

    async def open(self) -> None:
        if self._writer is not None:
            return
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="chain429-usage-writer")
        self._readers = ThreadPoolExecutor(
            self._read_threads, thread_name_prefix="chain429-usage-reader"
        )
        try:
            await self._on_writer(self._open_sync)
        except BaseException:
            await self.close()
            raise

    def _open_sync(self) -> None:
        try:
            check_database_file(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except DatabaseFileError as exc:
            raise UsageStoreError(str(exc)) from exc
        except OSError as exc:
            reason = (exc.strerror or type(exc).__name__).lower()
            raise UsageStoreError(
                f"usage database {self.path} cannot be created: {reason}"
            ) from exc
        self._write_engine = _sqlite_engine(self.path, begin="BEGIN IMMEDIATE", pool_size=1)
        self._read_engine = _sqlite_engine(self.path, begin="BEGIN", pool_size=self._read_threads)
        with (
            map_database_errors(f"migration of {self.path}"),
            self._write_engine.begin() as connection,
        ):
            upgrade_to_head(connection)
        sizes_enforced = self._write_engine.dialect.name != "sqlite"
        self._rows = RowBuilder(clip_names=sizes_enforced)
        self._insert_requests = _BulkInsert(REQUESTS, REQUEST_COLUMNS, self._write_engine)
        self._insert_attempts = _BulkInsert(ATTEMPTS, ATTEMPT_COLUMNS, self._write_engine)
        self._inserter = InsertProcess(self.path, _PRAGMAS)
        with map_database_errors("start"):
            self._inserter.start()

    async def close(self) -> None:
        writer, readers = self._writer, self._readers
        if writer is None or readers is None:
            return
        self._writer = self._readers = None
        inserter = self._inserter  # read once: the writer thread may clear it meanwhile
        if inserter is not None:
            inserter.abort()
        await asyncio.to_thread(readers.shutdown)
        await asyncio.get_running_loop().run_in_executor(writer, self._dispose_sync)
        await asyncio.to_thread(writer.shutdown)

    def _dispose_sync(self) -> None:
        if self._inserter is not None:
            self._inserter.close()
            self._inserter = None
        for engine in (self._write_engine, self._read_engine):
            if engine is not None:
                engine.dispose()
        self._write_engine = self._read_engine = None

    async def insert(self, records: Sequence[RequestRecord]) -> int:
        """Write `records` with their attempts in one transaction of the insert worker.

        A record the database refuses (a duplicate request id) is skipped, not the batch; returns
        how many were skipped. Rows are built on the writer thread, which waits for the answer.
        """
        if not records:
            return 0
        return await self._on_writer(self._insert_sync, records)

    def _insert_sync(self, records: Sequence[RequestRecord]) -> int:
        status, message = self._run_inserts(records)
        if status == COMMITTED:
            return 0
        if status != REFUSED or len(records) == 1:
            raise UsageStoreError(f"usage database insert failed: {message}")
        skipped = 0  # a constraint refused some record: find which, one transaction each
        for record in records:
            status, message = self._run_inserts((record,))
            if status == REFUSED:
                skipped += 1
            elif status != COMMITTED:
                raise UsageStoreError(f"usage database insert failed: {message}")
        return skipped

    def _run_inserts(self, records: Sequence[RequestRecord]) -> tuple[int, str]:
        if self._inserter is None or self._rows is None:
            raise UsageStoreError("usage store is not open")
        assert self._insert_requests is not None and self._insert_attempts is not None
        request_rows, attempt_rows = self._rows.build(records)
        statements: Statements = (
            *self._insert_requests.statements(request_rows),
            *self._insert_attempts.statements(attempt_rows),
        )
        with map_database_errors("insert"):
            try:
                return self._inserter.run(statements)
            except ValueError as exc:  # marshal: a row value that is no int, float, str or None
                raise UsageStoreError(
                    "usage database insert failed: a value of unusable type"
                ) from exc

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` inside a `BEGIN IMMEDIATE` transaction on the writer thread."""
        return await self._on_writer(self._write_sync, work)

    def _write_sync(self, work: Callable[[Connection], T]) -> T:
        with map_database_errors("write"), self._engine(write=True).begin() as connection:
            return work(connection)

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one read transaction (a consistent snapshot) on a reader thread."""
        if self._readers is None:
            raise UsageStoreError("usage store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read_sync, work)

    def _read_sync(self, work: Callable[[Connection], T]) -> T:
        with map_database_errors("read"), self._engine(write=False).begin() as connection:
            return work(connection)

    async def _on_writer(self, fn: Callable[..., T], *args: Any) -> T:
        if self._writer is None:
            raise UsageStoreError("usage store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn, *args)

    def _engine(self, *, write: bool) -> Engine:
        engine = self._write_engine if write else self._read_engine
        if engine is None:
            raise UsageStoreError("usage store is not open")
        return engine
