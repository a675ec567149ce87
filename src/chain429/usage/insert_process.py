"""The proxy's handle on the insert worker process: start it, hand it transactions, restart it.

Every method blocks and runs on the usage store's writer thread, the only thread that uses it.
The worker is started at `start()` (so a broken setup fails when the store opens) and again
whenever it is found gone. A worker that dies before it has received a whole transaction
cannot have run it, so that transaction goes to a fresh worker; one that dies after is
reported as an error, because its transaction may or may not have been committed. So is one
that does not answer within `answer_timeout` (stopped, or stuck behind another process's lock
for far longer than SQLite's own busy timeout): it is killed, so that a stuck worker cannot
hold up the proxy's shutdown for good.
"""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Final

import structlog

from chain429.usage import insert_worker
from chain429.usage.insert_worker import COMMITTED, ChannelClosed, encode_frame, read_frame

Statements = tuple[tuple[str, tuple[Any, ...]], ...]

#: `-I -S`: the worker needs only the standard library, so it skips site-packages and ignores
#: PYTHON* variables; run by path, its own directory is not put on `sys.path` either.
WORKER_COMMAND: Final = (sys.executable, "-I", "-S", str(Path(insert_worker.__file__).resolve()))
_STOP_TIMEOUT_S: Final = 10.0
#: Seconds to wait for an answer: far above a batch's usual tens of milliseconds and the
#: worker's 10 s busy timeout.
ANSWER_TIMEOUT_S: Final = 60.0


class InsertProcessError(Exception):
    """The worker could not start, or stopped before it answered."""


class InsertProcess:
    """One insert worker for the database at `path`, opened with `pragmas`.

    `command` starts the worker; tests swap in faulty ones.
    """

    def __init__(
        self,
        path: Path,
        pragmas: tuple[str, ...],
        *,
        command: Sequence[str] = WORKER_COMMAND,
        answer_timeout: float = ANSWER_TIMEOUT_S,
    ) -> None:
        self._path = path
        self._pragmas = pragmas
        self._command = tuple(command)
        self._answer_timeout = answer_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log = structlog.get_logger("chain429.usage")
        self.starts = 0
        self.last_exit_code: int | None = None

    @property
    def restarts(self) -> int:
        """Starts after the first: each one replaced a worker that had stopped."""
        return max(self.starts - 1, 0)

    @property
    def pid(self) -> int | None:
        """The running worker's process id, if one is running."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the worker unless one is running; returns once it has the database open."""
        if self._process is not None and self._process.poll() is None:
            return
        self._discard()
        if self.starts:
            self._log.warning("usage insert worker restarted", exit_code=self.last_exit_code)
        try:
            process = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError as exc:
            raise InsertProcessError(f"cannot start the insert worker: {exc.strerror}") from exc
        self._process = process
        self.starts += 1
        self._send((str(self._path), self._pragmas))
        status, message = self._answer()
        if status != COMMITTED:
            self._discard()
            raise InsertProcessError(f"the insert worker could not open the database: {message}")

    def run(self, statements: Statements) -> tuple[int, str]:
        """Run `statements` as one transaction; the worker's `(status, message)` answer."""
        self.start()
        try:
            self._send(statements)
        except InsertProcessError:  # gone before it had the whole transaction: it never ran it
            self.start()
            self._send(statements)
        return self._answer()

    def _send(self, request: Any) -> None:
        frame = encode_frame(request)  # a value it cannot encode is this side's error
        process = self._process
        assert process is not None and process.stdin is not None
        try:
            process.stdin.write(frame)
            process.stdin.flush()
        except (OSError, ValueError) as exc:  # ValueError: the pipe is already closed
            raise self._stopped("before it had the whole request") from exc

    def _answer(self) -> tuple[int, str]:
        process = self._process
        assert process is not None and process.stdout is not None
        # The reader never holds bytes ahead: the worker writes one answer per request.
        readable, _, _ = select.select([process.stdout], [], [], self._answer_timeout)
        if not readable:
            raise self._stopped(f"after not answering within {self._answer_timeout:g} s")
        try:
            status, message = read_frame(process.stdout)
        except (OSError, ValueError, ChannelClosed) as exc:
            raise self._stopped("before answering") from exc
        return int(status), str(message)

    def _stopped(self, when: str) -> InsertProcessError:
        code = self._discard()
        return InsertProcessError(f"the insert worker stopped (exit code {code}) {when}")

    def close(self) -> None:
        """Let the worker finish and exit (end of input), or kill it after a timeout."""
        process, self._process = self._process, None
        if process is None:
            return
        _close_quietly(process.stdin)
        try:
            process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _close_quietly(process.stdout)

    def _discard(self) -> int | None:
        """Kill and reap the current worker, if any; its exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        self.last_exit_code = process.wait()
        _close_quietly(process.stdin)
        _close_quietly(process.stdout)
        return self.last_exit_code


def _close_quietly(stream: IO[bytes] | None) -> None:
    if stream is not None:
        try:
            stream.close()
        except OSError:  # a broken pipe's unflushed bytes
            pass
