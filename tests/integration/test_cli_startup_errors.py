"""When the proxy cannot start, the CLI says why in one line that names the setting to change,
and exits with code 1; `--debug` adds the traceback. `check` finds a bad `dbPath` first."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from tests.support.proxy import make_config
from tests.support.serve_process import config_document
from tests.support.usage_db import usage_settings

#: An address reserved for documentation (TEST-NET-1): never one of this machine's, and binding
#: to it fails at once, without a packet sent.
FOREIGN_ADDRESS = "192.0.2.1"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chain429", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextlib.contextmanager
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program listens on."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield holder.getsockname()[1]


def write_config(tmp_path: Path, db_path: str | Path) -> Path:
    """A valid config file whose usage database is `db_path` (or a PostgreSQL URL)."""
    config = make_config([("a", "http://127.0.0.1:9/v1")], settings=usage_settings(db_path))
    path = tmp_path / "c.yaml"
    path.write_bytes(orjson.dumps(config_document(config)))
    return path


def serve(tmp_path: Path, *args: str, db_path: Path | None = None) -> list[str]:
    config = write_config(tmp_path, db_path or tmp_path / "data" / "u.db")
    return ["serve", "--config", str(config), *args]


def not_a_directory(tmp_path: Path) -> tuple[list[str], str]:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    return (
        serve(tmp_path, db_path=blocker / "u.db"),
        f"usage database {blocker / 'u.db'} cannot be created: {blocker} is a file "
        "(settings.dbPath)",
    )


def not_sqlite(tmp_path: Path) -> tuple[list[str], str]:
    notes = tmp_path / "notes.txt"
    notes.write_text("these are my notes, not a database\n" * 10)
    return (
        serve(tmp_path, db_path=notes),
        f"usage database {notes} is not an SQLite database (settings.dbPath)",
    )


def damaged_sqlite(tmp_path: Path) -> tuple[list[str], str]:
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    return (
        serve(tmp_path, db_path=damaged),
        f"usage database migration of {damaged} failed: DatabaseError: file is not a database "
        "(settings.dbPath)",
    )


def a_directory(tmp_path: Path) -> tuple[list[str], str]:
    return (
        serve(tmp_path, db_path=tmp_path),
        f"usage database {tmp_path} is a directory, not a file (settings.dbPath)",
    )


def foreign_host(tmp_path: Path) -> tuple[list[str], str]:
    return (
        serve(tmp_path, "--host", FOREIGN_ADDRESS),
        f"address {FOREIGN_ADDRESS} is not an address of this machine (settings.host / --host)",
    )


Case = Callable[[Path], tuple[list[str], str]]
CASES: dict[str, Case] = {
    "db-path-under-a-file": not_a_directory,
    "db-path-not-sqlite": not_sqlite,
    "db-path-damaged-sqlite": damaged_sqlite,
    "db-path-a-directory": a_directory,
    "host-not-of-this-machine": foreign_host,
}


def assert_one_line(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.splitlines() == [f"cannot start: {expected}"]
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_start_up_failure_is_one_line_naming_the_cause_and_the_setting(
    tmp_path: Path, case: Case
) -> None:
    args, expected = case(tmp_path)
    assert_one_line(run(*args, cwd=tmp_path), expected)


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_port_in_use_is_one_line_naming_the_cause_and_the_setting(
    tmp_path: Path, command: str
) -> None:
    with taken_port() as port:
        args = serve(tmp_path) if command == "serve" else ["demo"]
        done = run(*args, "--port", str(port), cwd=tmp_path)
    expected = f"port {port} on 127.0.0.1 is already in use (settings.port / --port)"
    assert_one_line(done, expected)


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_debug_shows_the_traceback(tmp_path: Path, command: str) -> None:
    with taken_port() as port:
        args = serve(tmp_path) if command == "serve" else ["demo"]
        done = run(*args, "--port", str(port), "--debug", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert "is already in use" in done.stderr


def test_check_finds_a_db_path_that_is_not_an_sqlite_database(tmp_path: Path) -> None:
    args, expected = not_sqlite(tmp_path)
    args[0] = "check"
    assert_one_line(run(*args, cwd=tmp_path), expected)


def test_check_finds_a_db_path_that_cannot_be_created(tmp_path: Path) -> None:
    args, expected = not_a_directory(tmp_path)
    args[0] = "check"
    assert_one_line(run(*args, cwd=tmp_path), expected)


def test_check_says_where_the_database_goes_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "data" / "u.db"
    done = run("check", "--config", str(write_config(tmp_path, db)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Usage database: {db} (will be created)" in done.stdout
    assert not db.parent.exists()


def test_with_json_logs_a_start_up_failure_is_one_json_line(tmp_path: Path) -> None:
    with taken_port() as port:
        done = run(*serve(tmp_path), "--port", str(port), "--log-format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    line = orjson.loads(lines[0])
    assert (line["event"], line["level"]) == ("cannot start", "error")
    assert line["cause"] == f"port {port} on 127.0.0.1 is already in use"
    assert line["setting"] == "settings.port / --port"
    assert line["timestamp"].endswith("Z")


def test_with_json_logs_an_invalid_config_is_one_json_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("version: 1\nsettings: {apiKeys: [k], queueMode: 'yes'}\n")
    done = run("serve", "--config", str(config), "--log-format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = [orjson.loads(text) for text in done.stderr.splitlines()]
    assert (line["event"], line["level"]) == ("invalid config", "error")
    assert any("queueMode" in problem for problem in line["problems"]), line


def test_a_postgresql_database_out_of_reach_is_one_line_naming_the_url_without_password(
    tmp_path: Path,
) -> None:
    with taken_port() as port:
        pass  # closed again: nothing listens there
    url = f"postgresql://chain429:pw-secret-0123@127.0.0.1:{port}/usage"
    done = run("serve", "--config", str(write_config(tmp_path, url)), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = done.stderr.splitlines()
    shown = f"postgresql://chain429:***@127.0.0.1:{port}/usage"
    assert line.startswith(f"cannot start: usage database migration of {shown} failed: ")
    assert "OperationalError" in line and "Connection refused" in line
    assert line.endswith("(settings.database)")
    assert "pw-secret-0123" not in done.stdout + done.stderr


def test_check_names_a_postgresql_database_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://chain429:pw-secret-0123@db.internal:5432/usage"
    done = run("check", "--config", str(write_config(tmp_path, url)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = "postgresql://chain429:***@db.internal:5432/usage"
    assert f"Usage database: {shown} (PostgreSQL)" in done.stdout
    assert "pw-secret-0123" not in done.stdout + done.stderr
