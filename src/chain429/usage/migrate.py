"""Bring a database to the newest usage schema with the Alembic scripts shipped in the package.

No alembic.ini is needed: the script location is the package's own `migrations` directory and
the caller's open connection is handed to `migrations/env.py`.

Alembic is imported only when an existing database lacks a migration: with it come Mako,
Pygments' lexers, SQLAlchemy's ORM and the DDL of every dialect Alembic knows, about 11 MiB
that would stay resident for the life of the process. A database already at `HEAD_REVISION`
(every start after the first) is recognised with one query; an empty one gets the tables of
`schema.py` and is stamped at `HEAD_REVISION`, as Alembic's "building an up to date database
from scratch" does (a test checks that this builds what the migrations build).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    insert,
    inspect,
    text,
)

from chain429.usage.schema import METADATA

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: The newest revision in `migrations/versions` (a test checks that Alembic agrees).
HEAD_REVISION: Final = "0006"
#: Where Alembic keeps the revision a database is at, as Alembic creates it.
_VERSION_TABLE: Final = "alembic_version"
_VERSIONS: Final = Table(
    _VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config(attributes={"connection": connection} if connection is not None else {})
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


#: PostgreSQL advisory lock held while a database is migrated: of the replicas that start
#: together on one database, one migrates and the others wait, then find it at the head.
MIGRATION_LOCK: Final = 429_017


def upgrade_to_head(connection: Connection) -> str | None:
    """Apply every migration the database lacks, inside the connection's transaction; returns
    the revision the database was at before (None: it was empty)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
    revision = current_revision(connection)
    if revision == HEAD_REVISION:
        return revision
    if not inspect(connection).get_table_names():
        create_at_head(connection)
    else:
        upgrade_to(connection, "head")
    return revision


def create_at_head(connection: Connection) -> None:
    """Create the newest schema in an empty database, stamped at `HEAD_REVISION`."""
    METADATA.create_all(connection)
    _VERSIONS.create(connection)
    connection.execute(insert(_VERSIONS).values(version_num=HEAD_REVISION))


def upgrade_to(connection: Connection, revision: str) -> None:
    """Apply the migrations up to `revision`, inside the connection's transaction."""
    from alembic import command

    command.upgrade(_alembic_config(connection), revision)


def head_revision() -> str | None:
    """The newest revision shipped with this version of 429chain, as Alembic reads it."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    if not inspect(connection).has_table(_VERSION_TABLE):
        return None
    query = text(f"SELECT version_num FROM {_VERSION_TABLE}")
    return connection.execute(query).scalar_one_or_none()
