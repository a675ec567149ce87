"""Bring a database to the newest usage schema with the Alembic scripts shipped in the package.

No alembic.ini is needed: the script location is the package's own `migrations` directory and
the caller's open connection is handed to `migrations/env.py`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config(attributes={"connection": connection} if connection is not None else {})
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_to_head(connection: Connection) -> None:
    """Apply every migration the database lacks, inside the connection's transaction."""
    upgrade_to(connection, "head")


def upgrade_to(connection: Connection, revision: str) -> None:
    """Apply the migrations up to `revision`, inside the connection's transaction."""
    command.upgrade(_alembic_config(connection), revision)


def head_revision() -> str | None:
    """The newest revision shipped with this version of 429chain."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()
