"""Whether a path can hold the usage database, said before SQLite is asked."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from chain429.usage import db_file
from chain429.usage.db_file import DatabaseFileError, check_database_file


def test_a_missing_file_in_a_missing_directory_can_be_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "u.db"
    assert check_database_file(path) is False
    assert not (tmp_path / "a").exists(), "checking creates nothing"


@pytest.mark.parametrize("content", [b"", None], ids=["empty-file", "sqlite-database"])
def test_an_sqlite_database_or_an_empty_file_is_taken(tmp_path: Path, content) -> None:
    path = tmp_path / "u.db"
    if content is None:
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE t (x)")
    else:
        path.write_bytes(content)
    assert check_database_file(path) is True


def test_a_short_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "u.db"
    path.write_bytes(b"{}")
    with pytest.raises(DatabaseFileError, match="is not an SQLite database"):
        check_database_file(path)


def test_read_only_places_are_refused(tmp_path: Path, monkeypatch) -> None:
    # As root, nothing is read-only to `os.access`; the answer it would give is faked here.
    read_only = {tmp_path / "ro", tmp_path / "ro-dir"}
    (tmp_path / "ro").write_bytes(b"")
    (tmp_path / "ro-dir").mkdir()
    (tmp_path / "ro-dir" / "u.db").write_bytes(b"")
    monkeypatch.setattr(db_file.os, "access", lambda p, mode: Path(p) not in read_only)
    with pytest.raises(DatabaseFileError, match=r"ro is read-only$"):
        check_database_file(tmp_path / "ro")
    with pytest.raises(DatabaseFileError, match="cannot be written: its directory is read-only"):
        check_database_file(tmp_path / "ro-dir" / "u.db")
    with pytest.raises(DatabaseFileError, match="ro-dir is not writable"):
        check_database_file(tmp_path / "ro-dir" / "new" / "u.db")
