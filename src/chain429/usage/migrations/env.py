"""Alembic environment for the usage tables; alembic loads it, `usage.migrate` drives it.

The running app hands over an open connection in `config.attributes["connection"]`. A
developer creating a revision (`alembic -x url=sqlite:///data/429chain.db revision ...` with a
throwaway alembic.ini pointing here) gets an engine built from `sqlalchemy.url` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from chain429.usage.schema import METADATA


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _migrate(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    engine = create_engine(url)
    try:
        with engine.begin() as own_connection:
            _migrate(own_connection)
    finally:
        engine.dispose()


_run()
