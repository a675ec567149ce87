"""Alembic environment for the usage tables; alembic loads it, `usage.migrate` drives it.

The running app hands over an open connection in `config.attributes["connection"]`. A
developer creating a revision (`alembic -x url=sqlite:///data/429chain.db revision ...` with a
throwaway alembic.ini pointing here) gets an engine built from `sqlalchemy.url` instead (an
SQLite URL, or a `postgresql://` one as `settings.database` takes it).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from chain429.config.schema import is_database_url
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
    if is_database_url(url):  # psycopg 3, as the store uses, not SQLAlchemy's default psycopg2
        from chain429.usage.postgres import engine_url

        engine = create_engine(engine_url(url))
    else:
        engine = create_engine(url)
    try:
        with engine.begin() as own_connection:
            _migrate(own_connection)
    finally:
        engine.dispose()


_run()
