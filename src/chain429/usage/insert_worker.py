"""The usage database's insert process: runs the proxy's INSERT batches on its own interpreter.

Binding parameters and stepping SQLite cost about 32 thousand instructions per usage record
(callgrind), and on a writer thread all of it holds the proxy's interpreter lock, so it comes
out of the event loop's time however the threads are arranged. In a process of its own it
runs on another core. The proxy builds the rows (redaction stays with the secrets) and sends
finished statements.

This file is both the child program and the one definition of its protocol. It imports only
the standard library, because the child runs it by path with `python -I -S` (no site-packages,
no environment), which starts in a few milliseconds.

Protocol, over the child's stdin and stdout. A frame is a 4-byte big-endian length and a
`marshal` payload (the rows hold only ints, floats, strings and None, which marshal writes and
reads faster than anything else the standard library has).

- The parent sends `(database_path, pragmas)` first; the child answers once it is open.
- Then each frame is a tuple of `(sql, parameters)` pairs: one transaction, begun with
  `BEGIN IMMEDIATE` so it takes the write lock up front. The child answers each with
  `(status, message)`: `COMMITTED`, `REFUSED` (a row's values were refused: a constraint, or a
  value SQLite cannot store; rolled back) or `FAILED` (any other error; rolled back). No
  failure of a transaction ends the child, unless its rollback fails too: the child then
  answers `FAILED` and exits rather than go on with a connection in an unknown state.
- End of input means the proxy is done or gone: the child exits. The proxy starts it in a
  process group of its own, out of reach of a terminal's Ctrl-C; it also ignores SIGINT,
  SIGTERM and SIGHUP, which a service manager may send to every process of the service, so
  that the proxy's last flush on shutdown still finds it running.
"""

from __future__ import annotations

import marshal
import signal
import sqlite3
import struct
import sys
from collections.abc import Callable
from types import MappingProxyType
from typing import IO, Any, Final, Protocol

COMMITTED: Final = 0
REFUSED: Final = 1
FAILED: Final = 2

#: A frame's header: the payload's length.
HEADER: Final = struct.Struct(">I")
#: Errors that mean a row's values were refused, not that the database failed: a constraint,
#: a value out of SQLite's range (an int past 64 bits), text that cannot be encoded.
_REFUSALS: Final = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    OverflowError,
    UnicodeEncodeError,
)


class ChannelClosed(EOFError):
    """The other side closed the pipe, or it ended within a frame."""


def encode_frame(value: Any) -> bytes:
    """`value` as one frame; ValueError for a value marshal cannot write."""
    payload = marshal.dumps(value)
    return HEADER.pack(len(payload)) + payload


def write_frame(stream: IO[bytes], value: Any) -> None:
    stream.write(encode_frame(value))
    stream.flush()


class Readable(Protocol):
    def read(self, size: int, /) -> bytes:
        """`size` bytes, or fewer only at the end of input."""
        ...


def read_frame(stream: Readable, *, limit: int | None = None) -> Any:
    """The next frame's value; ValueError for one longer than `limit` bytes."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise ChannelClosed("end of input")
    (length,) = HEADER.unpack(head)
    if limit is not None and length > limit:
        raise ValueError(f"a frame of {length} bytes")
    payload = stream.read(length)
    if len(payload) < length:
        raise ChannelClosed("input ended within a frame")
    return marshal.loads(payload)


#: None -> None for the driver's adapter registry, as a C method: adapting a NULL then runs no
#: Python frame (an empty mapping's `get` answers None for every key).
_BIND_NULL: Final[Callable[[None], None]] = MappingProxyType[None, None]({}).get


def open_database(path: str, pragmas: tuple[str, ...]) -> sqlite3.Connection:
    # The driver looks for an adapter for every None it binds and, finding none, asks the value
    # for `__conform__` (an AttributeError raised and cleared per NULL); a registered adapter
    # ends that search at once.
    sqlite3.register_adapter(type(None), _BIND_NULL)
    connection = sqlite3.connect(path, isolation_level=None, cached_statements=256)
    for pragma in pragmas:
        connection.execute(pragma)
    return connection


class Unrecoverable(Exception):
    """A transaction failed and so did its rollback; `answer` is the last word to the parent."""

    def __init__(self, answer: tuple[int, str]) -> None:
        super().__init__(answer[1])
        self.answer = answer


def describe(exc: BaseException) -> str:
    # SQLite's messages name tables, columns and constraints, never values; other errors may
    # quote a value, so only their kind is told.
    return type(exc).__name__ + (f": {exc}" if isinstance(exc, sqlite3.Error) else "")


def run_transaction(
    connection: sqlite3.Connection, statements: tuple[tuple[str, tuple[Any, ...]], ...]
) -> tuple[int, str]:
    """Execute `statements` (`(sql, parameters)` pairs) in one transaction; the
    `(status, message)` answer for the parent. Raises `Unrecoverable` if a failed transaction
    could not be rolled back."""
    try:
        connection.execute("BEGIN IMMEDIATE")
        for sql, parameters in statements:
            connection.execute(sql, parameters)
        connection.execute("COMMIT")
    except Exception as exc:  # every failure is answered
        answer = (REFUSED if isinstance(exc, _REFUSALS) else FAILED), describe(exc)
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except Exception as rollback:
            failed = (FAILED, f"{answer[1]}; then the rollback failed: {describe(rollback)}")
            raise Unrecoverable(failed) from rollback
        return answer
    return COMMITTED, ""


def serve(requests: IO[bytes], answers: IO[bytes]) -> int:
    try:
        path, pragmas = read_frame(requests)
    except ChannelClosed:
        return 0
    try:
        connection = open_database(path, pragmas)
    except Exception as exc:  # told to the parent, which reports it at start-up
        write_frame(answers, (FAILED, describe(exc)))
        return 1
    write_frame(answers, (COMMITTED, ""))
    try:
        while True:
            try:
                statements = read_frame(requests)
            except ChannelClosed:
                return 0
            try:
                answer = run_transaction(connection, statements)
            except Unrecoverable as exc:
                write_frame(answers, exc.answer)
                return 1
            write_frame(answers, answer)
    finally:
        connection.close()


def main() -> int:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not land in the answer stream
    try:
        return serve(requests, answers)
    except BrokenPipeError:  # the proxy went away while we answered
        return 0


if __name__ == "__main__":
    sys.exit(main())
