"""Saving and loading the rate-limit snapshot (the limits package makes it; SQL lives here)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, Table, select

from chain429.errors import Chain429Error
from chain429.usage.schema import LIMIT_STATE
from chain429.usage.store import UsageStore

_ROW_ID = 1


async def save_limit_state(store: UsageStore, data: dict[str, Any], saved_at: float) -> None:
    """Replace the saved snapshot. One statement that inserts or updates the one row: replicas
    sharing a PostgreSQL database that stop together would otherwise race between a delete and
    an insert (the second insert failing on the row the first committed); the last one wins."""
    payload = orjson.dumps(data).decode()

    def work(connection: Connection) -> None:
        statement = _upsert(connection, LIMIT_STATE).values(
            id=_ROW_ID, saved_at=saved_at, data=payload
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[LIMIT_STATE.c.id],
                set_={"saved_at": statement.excluded.saved_at, "data": statement.excluded.data},
            )
        )

    await store.write(work)


def _upsert(connection: Connection, table: Table) -> Any:
    """The dialect's INSERT with ON CONFLICT; only the dialect in use is imported (an SQLite
    deployment never loads SQLAlchemy's PostgreSQL dialect)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


class CorruptLimitState(Chain429Error):
    """The saved limit state is not JSON; the message says where it stops being JSON."""


async def load_limit_state(store: UsageStore) -> Any:
    """The last saved snapshot, or None when there is none. Raises `UsageStoreError` when it
    cannot be read and `CorruptLimitState` when it is not JSON."""

    def work(connection: Connection) -> str | bytes | None:
        return connection.execute(select(LIMIT_STATE.c.data)).scalars().first()

    text = await store.read(work)
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise CorruptLimitState(f"saved limit state is not JSON: {exc}") from exc
