"""The usage tables, in SQLAlchemy Core so the same schema serves SQLite and PostgreSQL.

Times are epoch seconds (`started_at`, a double), durations are milliseconds. A request is
joined to its attempts by `request_id`, the attempts' primary key with `position` (on SQLite a
WITHOUT ROWID table, so that key is the table and costs no extra index). Indexes are few on
purpose: each one is paid on every insert, and inserts are the hot path; `requests` has one, on
`started_at`, since every statistic reads a time range.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

METADATA = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

NAME_LENGTH = 200
REASON_LENGTH = 500
ERROR_CLASS_LENGTH = 100

_RowId = BigInteger().with_variant(Integer(), "sqlite")
#: Token counts hold 64 bits on both databases (SQLite's INTEGER always does).
_Count = BigInteger().with_variant(Integer(), "sqlite")

REQUESTS = Table(
    "requests",
    METADATA,
    Column("id", _RowId, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False),
    Column("started_at", Double(), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("chain", String(NAME_LENGTH), nullable=False),
    Column("requested_model", String(NAME_LENGTH), nullable=False),
    Column("provider_id", String(NAME_LENGTH)),
    Column("model", String(NAME_LENGTH)),
    Column("key_label", String(32)),
    Column("status", Integer(), nullable=False),
    Column("streamed", Boolean(), nullable=False),
    Column("attempt_count", Integer(), nullable=False),
    Column("prompt_tokens", _Count),
    Column("completion_tokens", _Count),
    Column("total_tokens", _Count),
    Column("latency_ms", Double(), nullable=False),
    Column("ttft_ms", Double()),
    Column("error_class", String(ERROR_CLASS_LENGTH)),
    Column("client_closed", Boolean(), nullable=False),
    Column("queued_ms", Double()),
    Index(None, "started_at"),
)

ATTEMPTS = Table(
    "attempts",
    METADATA,
    Column("request_id", String(64), primary_key=True),
    Column("position", Integer(), primary_key=True, autoincrement=False),
    Column("provider_id", String(NAME_LENGTH), nullable=False),
    Column("model", String(NAME_LENGTH), nullable=False),
    Column("key_label", String(32)),
    Column("outcome", String(32), nullable=False),
    Column("status", Integer()),
    Column("latency_ms", Double(), nullable=False),
    Column("reason", String(REASON_LENGTH), nullable=False),
    Column("waited_ms", Double()),
    sqlite_with_rowid=False,
)

#: The rate-limit state snapshot (one row): what limits learned, kept across restarts.
LIMIT_STATE = Table(
    "limit_state",
    METADATA,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("saved_at", Double(), nullable=False),
    Column("data", Text(), nullable=False),
)
