"""The usage database: one object owns the engines, the writer thread and the reader threads.

Every write goes through one writer thread that owns the one write connection (as Datasette's
`Database` does): record batches as chunked multi-row INSERTs (`bulk_insert`), retention
deletes and the limit-state snapshot, each in a transaction begun with `BEGIN IMMEDIATE`, which
takes SQLite's one write lock up front instead of failing half way, and waits up to
`busy_timeout` for another writer. The driver runs `sqlite3_step` without the interpreter lock,
so stepping SQLite runs beside the event loop. Reads run on a small pool of their own threads in
WAL mode, so they neither block the event loop nor wait for writers. Database errors stop here
and leave as `UsageStoreError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

import structlog
from sqlalchemy import Connection, Dialect, Engine, create_engine, event
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from chain429.config.schema import is_database_url, shown_url
from chain429.errors import Chain429Error
from chain429.usage.bulk_insert import BulkInsert
from chain429.usage.db_file import DatabaseFileError, check_database_file
from chain429.usage.migrate import upgrade_to_head
from chain429.usage.problem import Problem
from chain429.usage.records import RequestRecord
from chain429.usage.rows import ATTEMPT_COLUMNS, REQUEST_COLUMNS, Row, RowBuilder
from chain429.usage.schema import ATTEMPTS, REQUESTS

T = TypeVar("T")

_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
#: Seconds a write waits for another process's write lock before it fails as `LOCKED`.
BUSY_TIMEOUT_S: Final = 10.0
#: Errors that mean a row's values were refused, not that the database failed: a constraint,
#: a value out of SQLite's range (an int past 64 bits), text that cannot be encoded.
_REFUSALS: Final = (IntegrityError, DataError, OverflowError, UnicodeEncodeError)
#: Seconds `close()` waits for a write it has interrupted; one waiting for another process's
#: write lock cannot be interrupted and is left to end on its own.
CLOSE_TIMEOUT_S: Final = 0.5


#: SQLite's primary result codes (the low byte of its extended codes) that name a problem.
_PROBLEM_CODES: Final = {
    sqlite3.SQLITE_READONLY: Problem.READ_ONLY,
    sqlite3.SQLITE_BUSY: Problem.LOCKED,
    sqlite3.SQLITE_LOCKED: Problem.LOCKED,
    sqlite3.SQLITE_FULL: Problem.FULL,
}


def problem_of(error: sqlite3.Error) -> Problem:
    code = getattr(error, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return Problem.ERROR
    return _PROBLEM_CODES.get(code & 0xFF, Problem.ERROR)


class UsageStoreError(Chain429Error):
    """The usage database could not be opened, read or written; `problem` says what kind of
    failure it was."""

    def __init__(self, message: str, problem: Problem = Problem.ERROR) -> None:
        super().__init__(message)
        self.problem = problem


class _Refused(UsageStoreError):
    """The database refused a record's values; the transaction was rolled back."""


def _is_psycopg_error(error: object) -> bool:
    """Without importing psycopg (an SQLite deployment never loads it)."""
    return type(error).__module__.split(".")[0] == "psycopg"


def _postgres_error(action: str, error: BaseException) -> UsageStoreError:
    from chain429.usage import postgres

    return UsageStoreError(
        f"usage database {action} failed: {postgres.describe(error)}", postgres.problem_of(error)
    )


@contextlib.contextmanager
def map_database_errors(action: str) -> Iterator[None]:
    """Translate SQLAlchemy's and the drivers' errors into `UsageStoreError`."""
    try:
        yield
    except SQLAlchemyError as exc:  # its text can quote statements and parameters
        # SQLite's own message names tables, columns and constraints, never values.
        cause = getattr(exc, "orig", None)
        if isinstance(cause, BaseException) and _is_psycopg_error(cause):
            raise _postgres_error(action, cause) from exc
        if not isinstance(cause, sqlite3.Error):
            raise UsageStoreError(f"usage database {action} failed: {type(exc).__name__}") from exc
        raise UsageStoreError(
            f"usage database {action} failed: {type(exc).__name__}: {cause}", problem_of(cause)
        ) from exc
    except Exception as exc:
        if not _is_psycopg_error(exc):  # COPY runs on psycopg's cursor, past SQLAlchemy
            raise
        raise _postgres_error(action, exc) from exc


def _sqlite_engine(path: Path, *, begin: str, pool_size: int, busy_timeout_s: float) -> Engine:
    engine = create_engine(f"sqlite:///{path}", pool_size=pool_size, max_overflow=0)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so "begin" below decides the BEGIN flavour.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _PRAGMAS:
            cursor.execute(pragma)
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)

    return engine


def _interrupter(driver: Any) -> Callable[[], object] | None:
    """How to end the statement `driver` runs, from another thread."""
    if isinstance(driver, sqlite3.Connection):
        return driver.interrupt
    cancel = getattr(driver, "cancel_safe", None)  # psycopg 3.2+: a request to the server
    return partial(cancel, timeout=CLOSE_TIMEOUT_S) if cancel is not None else None


def _lost(connection: Connection) -> bool:
    """Whether the connection's server hung up (PostgreSQL: an outage, a restart)."""
    if connection.invalidated or connection.closed:
        return True
    driver = connection.connection.dbapi_connection
    return bool(getattr(driver, "broken", False) or getattr(driver, "closed", False))


def _settle(outcome: Callable[[Any], None], value: Any) -> None:
    """Give a write's future its result or error, unless `close` has failed it already."""
    with contextlib.suppress(InvalidStateError):
        outcome(value)


class _WriteThread:
    """One daemon thread that owns the write connection and runs writes in turn, each in one
    transaction.

    `close()` does not queue behind a stuck write: it interrupts the statement running (SQLite
    ends it at once, unless it is waiting for another process's write lock), fails the writes
    not yet run and waits at most `CLOSE_TIMEOUT_S` for the thread. A write still running then
    is left to end on its own (a daemon thread does not hold up the process's exit) and rolls
    back instead of committing, so a write reported as failed does not land later.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._jobs: queue.SimpleQueue[tuple[Callable[[Connection], Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._unsettled: set[Future[Any]] = set()  # used on the event loop's thread only
        self._closing = False
        self._driver_lock = threading.Lock()  # an interrupt never meets a closing connection
        self._interrupt: Callable[[], object] | None = None
        self._thread = threading.Thread(
            target=self._serve, name="chain429-usage-writer", daemon=True
        )
        self._thread.start()

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` inside a `BEGIN IMMEDIATE` transaction, on the writer thread."""
        if self._closing:
            raise UsageStoreError("usage store is not open")
        future: Future[T] = Future()
        self._unsettled.add(future)
        self._jobs.put((work, future))
        try:
            return await asyncio.wrap_future(future)
        finally:
            self._unsettled.discard(future)

    async def close(self) -> None:
        self._closing = True
        self._jobs.put(None)
        await asyncio.to_thread(self._interrupt_running)
        await asyncio.to_thread(self._thread.join, CLOSE_TIMEOUT_S)
        if self._thread.is_alive():
            structlog.get_logger("chain429.usage").warning(
                "usage write abandoned at close", waited_s=CLOSE_TIMEOUT_S
            )
        closed = UsageStoreError("usage store closed before the write was committed")
        for future in list(self._unsettled):
            _settle(future.set_exception, closed)

    def _interrupt_running(self) -> None:
        """End the statement running on the write connection (SQLite: at once; PostgreSQL: a
        cancel request sent to the server)."""
        with self._driver_lock:
            if self._interrupt is None:
                return
            try:
                self._interrupt()
            except Exception as exc:  # a server that is gone has nothing running to cancel
                structlog.get_logger("chain429.usage").warning(
                    "usage write not interrupted", error=type(exc).__name__
                )

    def _serve(self) -> None:
        connection: Connection | None = None
        try:
            while (job := self._jobs.get()) is not None:
                work, future = job
                if self._closing:
                    _settle(future.set_exception, UsageStoreError("usage store is closed"))
                    continue
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    connection = connection or self._connect()
                    result = self._transact(connection, work)
                except BaseException as exc:  # whatever it is, the waiting caller gets it
                    _settle(future.set_exception, exc)
                    if connection is not None and _lost(connection):
                        self._disconnect(connection)
                        connection = None  # the next write connects again
                else:
                    _settle(future.set_result, result)
        finally:
            if connection is not None:
                self._disconnect(connection)
            self._engine.dispose()

    def _connect(self) -> Connection:
        connection = self._engine.connect()
        driver = connection.connection.dbapi_connection
        with self._driver_lock:
            self._interrupt = _interrupter(driver)
        return connection

    def _disconnect(self, connection: Connection) -> None:
        with self._driver_lock:
            self._interrupt = None
        if _lost(connection):
            connection.invalidate()
        connection.close()

    def _transact(self, connection: Connection, work: Callable[[Connection], T]) -> T:
        with connection.begin():
            result = work(connection)
            if self._closing:  # raising rolls the transaction back
                raise UsageStoreError("usage store closed before the write was committed")
        return result


class _MultiRowInserts:
    """Writes request and attempt rows as chunked multi-row INSERTs (SQLite)."""

    refusals: Final = _REFUSALS

    def __init__(self, dialect: Dialect) -> None:
        self._requests = BulkInsert(REQUESTS, REQUEST_COLUMNS, dialect)
        self._attempts = BulkInsert(ATTEMPTS, ATTEMPT_COLUMNS, dialect)

    def write(self, connection: Connection, requests: list[Row], attempts: list[Row]) -> None:
        statements = chain(self._requests.statements(requests), self._attempts.statements(attempts))
        for sql, values in statements:
            connection.exec_driver_sql(sql, values)


class _RowWriter(Protocol):
    @property
    def refusals(self) -> tuple[type[BaseException], ...]: ...

    def write(self, connection: Connection, requests: list[Row], attempts: list[Row]) -> None: ...


class UsageStore:
    """Owns the usage database: schema migration, batched inserts, reads.

    `database` is the SQLite file's path, or a `postgresql://` URL (`config.is_database_url`).
    `open()` creates an SQLite file's directory and turns on WAL, then migrates to the newest
    schema; `close()` ends a write still running (it does not wait behind it), stops the writer
    thread and closes every connection.
    """

    def __init__(
        self,
        database: str | Path,
        *,
        read_threads: int = 2,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        self.url = database if isinstance(database, str) and is_database_url(database) else None
        """The PostgreSQL URL, or None for an SQLite file."""
        self.path = Path(database)
        self.existed = False
        """Whether the database was there before `open()` (else this start created it)."""
        self._read_threads = read_threads
        self._busy_timeout_s = busy_timeout_s
        self._writer: _WriteThread | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._read_engine: Engine | None = None
        # built at open, when the dialect is known
        self._rows: RowBuilder | None = None
        self._row_writer: _RowWriter | None = None

    @property
    def name(self) -> str:
        """The database, as messages name it (a URL without its password)."""
        return shown_url(self.url) if self.url is not None else str(self.path)

    async def open(self) -> None:
        if self._writer is not None:
            return
        write_engine, self._read_engine = await asyncio.to_thread(self._create_engines)
        self._readers = ThreadPoolExecutor(
            self._read_threads, thread_name_prefix="chain429-usage-reader"
        )
        self._writer = _WriteThread(write_engine)
        try:
            revision = await self._write(f"migration of {self.name}", upgrade_to_head)
        except BaseException:
            await self.close()
            raise
        dialect = write_engine.dialect
        self._rows = RowBuilder(clip_names=dialect.name != "sqlite")
        if self.url is not None:
            from chain429.usage.postgres import CopyRows

            self.existed = revision is not None
            self._row_writer = CopyRows(REQUESTS, REQUEST_COLUMNS, ATTEMPTS, ATTEMPT_COLUMNS)
        else:
            self._row_writer = _MultiRowInserts(dialect)

    def _create_engines(self) -> tuple[Engine, Engine]:
        if self.url is not None:
            from chain429.usage.postgres import postgres_engines

            return postgres_engines(
                self.url, read_threads=self._read_threads, lock_timeout_s=self._busy_timeout_s
            )
        try:
            self.existed = check_database_file(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except DatabaseFileError as exc:
            raise UsageStoreError(str(exc)) from exc
        except OSError as exc:
            reason = (exc.strerror or type(exc).__name__).lower()
            raise UsageStoreError(
                f"usage database {self.path} cannot be created: {reason}"
            ) from exc
        return (
            _sqlite_engine(
                self.path, begin="BEGIN IMMEDIATE", pool_size=1, busy_timeout_s=self._busy_timeout_s
            ),
            _sqlite_engine(
                self.path,
                begin="BEGIN",
                pool_size=self._read_threads,
                busy_timeout_s=self._busy_timeout_s,
            ),
        )

    async def close(self) -> None:
        """Close the database; a write still running `CLOSE_TIMEOUT_S` later is abandoned."""
        writer, readers, read_engine = self._writer, self._readers, self._read_engine
        self._writer, self._readers, self._read_engine = None, None, None
        if writer is not None:
            await writer.close()
        if readers is not None:
            await asyncio.to_thread(readers.shutdown)
        if read_engine is not None:
            await asyncio.to_thread(read_engine.dispose)

    async def insert(self, records: Sequence[RequestRecord]) -> int:
        """Write `records` with their attempts in one transaction on the writer thread.

        A record the database refuses (a duplicate request id, a number SQLite cannot hold) is
        skipped, not the batch; returns how many were skipped.
        """
        if not records:
            return 0
        try:
            await self._write("insert", partial(self._insert_rows, records))
            return 0
        except _Refused:
            if len(records) == 1:
                return 1
        skipped = 0  # the database refused some record: find which, one transaction each
        for record in records:
            try:
                await self._write("insert", partial(self._insert_rows, (record,)))
            except _Refused:
                skipped += 1
        return skipped

    def _insert_rows(self, records: Sequence[RequestRecord], connection: Connection) -> None:
        if self._rows is None or self._row_writer is None:
            raise UsageStoreError("usage store is not open")
        request_rows, attempt_rows = self._rows.build(records)
        try:
            self._row_writer.write(connection, request_rows, attempt_rows)
        except self._row_writer.refusals as exc:
            raise _Refused(f"usage database refused a record: {type(exc).__name__}") from exc

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` inside a `BEGIN IMMEDIATE` transaction on the writer thread."""
        return await self._write("write", work)

    async def _write(self, action: str, work: Callable[[Connection], T]) -> T:
        if self._writer is None:
            raise UsageStoreError("usage store is not open")
        with map_database_errors(action):
            return await self._writer.run(work)

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one read transaction (a consistent snapshot) on a reader thread."""
        if self._readers is None:
            raise UsageStoreError("usage store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read_sync, work)

    def _read_sync(self, work: Callable[[Connection], T]) -> T:
        if self._read_engine is None:
            raise UsageStoreError("usage store is not open")
        with map_database_errors("read"), self._read_engine.begin() as connection:
            return work(connection)
