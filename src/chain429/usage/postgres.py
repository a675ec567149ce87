"""The usage database on PostgreSQL (`settings.database`): engines, error kinds, COPY inserts.

Imported only when a `postgresql://` URL is configured, so an SQLite deployment never loads
psycopg. The tables, migrations and queries are the SQLite ones (SQLAlchemy Core compiles them
for either); what differs lives here:

- Engines: psycopg 3, a pool of one connection for the writer thread and one per reader
  thread. Readers see one snapshot per read (`REPEATABLE READ`, read-only). A write that waits
  for a lock longer than `lock_timeout` fails as `LOCKED`, as SQLite's `busy_timeout` does.
- Inserts: `COPY ... FROM STDIN`, one per table per batch: PostgreSQL parses the rows as one
  stream instead of planning a statement per chunk.
- Errors: SQLSTATEs name the problem (read-only, disk full, lock timeout); a server that cannot
  be reached, or hangs up, is `UNAVAILABLE`. Messages name the condition, never a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import psycopg
from sqlalchemy import Connection, Engine, Table, create_engine
from sqlalchemy.engine import URL, make_url

from chain429.usage.problem import Problem
from chain429.usage.rows import Row

DRIVER: Final = "postgresql+psycopg"
CONNECT_TIMEOUT_S: Final = 10
TCP_USER_TIMEOUT_MS: Final = 30_000

_PROBLEM_STATES: Final = {
    "25006": Problem.READ_ONLY,  # read_only_sql_transaction: a standby, or read-only by default
    "53100": Problem.FULL,  # disk_full
    "55P03": Problem.LOCKED,  # lock_not_available: lock_timeout ran out
    "40P01": Problem.LOCKED,  # deadlock_detected
    "57P01": Problem.UNAVAILABLE,  # admin_shutdown
    "57P02": Problem.UNAVAILABLE,  # crash_shutdown
    "57P03": Problem.UNAVAILABLE,  # cannot_connect_now: starting up or shutting down
    "53300": Problem.UNAVAILABLE,  # too_many_connections
}

#: Errors that mean a row's values were refused, not that the database failed.
REFUSALS: Final = (psycopg.IntegrityError, psycopg.DataError, UnicodeEncodeError)


def engine_url(url: str) -> URL:
    """`url` with psycopg 3 as its driver (SQLAlchemy's default for `postgresql` is psycopg2)."""
    return make_url(url).set(drivername=DRIVER)


def _connect_args(url: URL, lock_timeout_s: float) -> dict[str, Any]:
    options = f"-c lock_timeout={round(lock_timeout_s * 1000)}"
    given = url.query.get("options")
    if isinstance(given, str):
        options = f"{given} {options}"
    return {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "application_name": "429chain",
        "options": options,
        # A server that vanishes without a word (a host down, a network cut) is noticed within
        # about half a minute, not at the operating system's TCP timeout of many minutes.
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
    }


def postgres_engines(
    url: str, *, read_threads: int, lock_timeout_s: float
) -> tuple[Engine, Engine]:
    """The writer's engine (one connection) and the readers' (one per reader thread)."""
    target = engine_url(url)
    connect_args = _connect_args(target, lock_timeout_s)
    write = create_engine(target, pool_size=1, max_overflow=0, connect_args=connect_args)
    read = create_engine(
        target,
        pool_size=read_threads,
        max_overflow=0,
        pool_pre_ping=True,  # a connection from before an outage is replaced, not failed on
        connect_args=connect_args,
        isolation_level="REPEATABLE READ",
        execution_options={"postgresql_readonly": True},
    )
    return write, read


def is_driver_error(error: BaseException) -> bool:
    return isinstance(error, psycopg.Error)


def problem_of(error: BaseException) -> Problem:
    if not isinstance(error, psycopg.Error):
        return Problem.ERROR
    state = error.sqlstate
    if state is None:
        return Problem.UNAVAILABLE if isinstance(error, psycopg.OperationalError) else Problem.ERROR
    if state.startswith("08"):  # connection_exception and its kinds
        return Problem.UNAVAILABLE
    return _PROBLEM_STATES.get(state, Problem.ERROR)


def describe(error: BaseException) -> str:
    """What went wrong, without a value from a row: the condition's name (`UniqueViolation`),
    or for a server that cannot be reached psycopg's first line (it names host and port)."""
    if isinstance(error, psycopg.Error) and error.sqlstate is None:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    return type(error).__name__


class CopyRows:
    """Writes request and attempt rows with one `COPY ... FROM STDIN` per table."""

    refusals: Final = REFUSALS

    def __init__(
        self,
        requests: Table,
        request_columns: Sequence[str],
        attempts: Table,
        attempt_columns: Sequence[str],
    ) -> None:
        self._requests = _copy_sql(requests, request_columns)
        self._attempts = _copy_sql(attempts, attempt_columns)

    def write(self, connection: Connection, requests: list[Row], attempts: list[Row]) -> None:
        driver = connection.connection.dbapi_connection
        if not isinstance(driver, psycopg.Connection):
            raise psycopg.OperationalError("the connection is closed")
        with driver.cursor() as cursor:
            for sql, rows in ((self._requests, requests), (self._attempts, attempts)):
                if not rows:
                    continue
                with cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)


def _copy_sql(table: Table, columns: Sequence[str]) -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    return f'COPY "{table.name}" ({names}) FROM STDIN'
