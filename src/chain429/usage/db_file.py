"""Whether a path can hold the usage database, told in words before SQLite is asked.

SQLite's own answers ("unable to open database file", "file is not a database") name neither
the file nor the reason; this check does, and creates nothing, so `429chain check` can run it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from chain429.errors import Chain429Error

#: The first 16 bytes of every SQLite 3 database; an empty file is one too (SQLite fills it).
SQLITE_HEADER: Final = b"SQLite format 3\x00"


class DatabaseFileError(Chain429Error):
    """`path` cannot hold the usage database; the message says why."""


def check_database_file(path: Path) -> bool:
    """True if `path` holds an SQLite database, False if it can be created there; raises
    `DatabaseFileError` naming the problem otherwise."""
    if path.exists():
        _check_existing(path)
        return True
    ancestor = next(p for p in path.parents if p.exists())
    if not ancestor.is_dir():
        raise DatabaseFileError(f"usage database {path} cannot be created: {ancestor} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise DatabaseFileError(
            f"usage database {path} cannot be created: {ancestor} is not writable"
        )
    return False


def _check_existing(path: Path) -> None:
    if path.is_dir():
        raise DatabaseFileError(f"usage database {path} is a directory, not a file")
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseFileError(f"usage database {path} cannot be read: {_reason(exc)}") from exc
    if head and head != SQLITE_HEADER:
        raise DatabaseFileError(f"usage database {path} is not an SQLite database")
    if not os.access(path, os.W_OK):
        raise DatabaseFileError(f"usage database {path} is read-only")
    if not os.access(path.parent, os.W_OK | os.X_OK):  # WAL mode keeps two files beside it
        raise DatabaseFileError(
            f"usage database {path} cannot be written: its directory is read-only"
        )


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()
