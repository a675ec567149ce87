"""The proxy's handle on the insert worker process: start it, hand it transactions, restart it.

Every method blocks and runs on the usage store's writer thread, the only thread that uses it,
except `abort`, which any thread may call to end a transaction in progress at once.
The worker is started at `start()` (so a broken setup fails when the store opens) and again
whenever it is found gone. A worker that dies, or stops taking input for `timeout` seconds,
before it has received a whole transaction cannot have run it, so that transaction goes to a
fresh worker. One that dies after, or does not answer within `timeout`, is killed and
reported as an error, because its transaction may or may not have been committed. So a
stopped or stuck worker cannot hold up the proxy, or its shutdown, for good: one `run` takes
at most about five `timeout`s (a refused send, a fresh worker's handshake both ways, the
resend and its answer), and every wait for a killed worker to exit is bounded too.

The pipes are used without Python's buffering, non-blocking, with `poll` (which, unlike
`select`, takes descriptors numbered past 1024, as a busy proxy's are).
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Final

import structlog

from chain429.errors import Chain429Error
from chain429.usage import insert_worker
from chain429.usage.insert_worker import COMMITTED, encode_frame, read_frame

Statements = tuple[tuple[str, tuple[Any, ...]], ...]

#: `-I -S`: the worker needs only the standard library, so it skips site-packages and ignores
#: PYTHON* variables; run by path, its own directory is not put on `sys.path` either.
WORKER_COMMAND: Final = (sys.executable, "-I", "-S", str(Path(insert_worker.__file__).resolve()))
_STOP_TIMEOUT_S: Final = 10.0
#: An answer is a status and a short message; a longer length means the stream is garbage.
_MAX_ANSWER_BYTES: Final = 64 * 1024
#: Seconds the worker may take to accept a request, and again to answer it: far above a
#: batch's usual tens of milliseconds and the worker's own 10 s wait for SQLite's write lock.
IO_TIMEOUT_S: Final = 60.0


class InsertProcessError(Chain429Error):
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
        timeout: float = IO_TIMEOUT_S,
    ) -> None:
        self._path = path
        self._pragmas = pragmas
        self._command = tuple(command)
        self._timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log = structlog.get_logger("chain429.usage")
        self._aborted = False
        self.starts = 0
        self.last_exit_code: int | None = None

    @property
    def restarts(self) -> int:
        """Starts after the first: each one replaced a worker that had stopped."""
        return max(self.starts - 1, 0)

    @property
    def pid(self) -> int | None:
        """The running worker's process id, if one is running."""
        process = self._process  # read once: the writer thread may clear it meanwhile
        return process.pid if process is not None else None

    def start(self) -> None:
        """Start the worker unless one is running; returns once it has the database open."""
        if self._process is not None and self._process.poll() is None:
            return
        self._discard()
        if self._aborted:
            raise InsertProcessError("the insert worker was stopped for good")
        if self.starts:
            self._log.warning("usage insert worker restarted", exit_code=self.last_exit_code)
        try:
            # A process group of its own: a terminal's Ctrl-C (or hang-up) does not reach it.
            process = subprocess.Popen(
                self._command,
                bufsize=0,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                process_group=0,
            )
        except OSError as exc:
            raise InsertProcessError(f"cannot start the insert worker: {exc.strerror}") from exc
        self._process = process
        self.starts += 1
        try:
            for stream in (process.stdin, process.stdout):
                assert stream is not None
                os.set_blocking(stream.fileno(), False)
            status, message = self._exchange((str(self._path), self._pragmas), resend=False)
        except BaseException:  # never keep a worker that has not confirmed its database
            self._discard()
            raise
        if status != COMMITTED:
            self._discard()
            raise InsertProcessError(f"the insert worker could not open the database: {message}")

    def run(self, statements: Statements) -> tuple[int, str]:
        """Run `statements` as one transaction; the worker's `(status, message)` answer."""
        self.start()
        return self._exchange(statements, resend=True)

    def _exchange(self, request: Any, *, resend: bool) -> tuple[int, str]:
        """Send `request` and wait for the answer; with `resend`, a worker that never had the
        whole request (so never acted on it) is replaced and the request sent once more."""
        frame = encode_frame(request)  # a value it cannot encode is this side's error
        try:
            self._send(frame)
        except InsertProcessError:
            if not resend:
                raise
            self.start()
            self._send(frame)
        try:
            return self._answer()
        except BaseException:  # whatever broke the exchange, the streams are out of step now
            self._discard()
            raise

    def _send(self, frame: bytes) -> None:
        stdin = self._pipes()[0]
        try:
            _write_all(stdin, frame, time.monotonic() + self._timeout)
        except TimeoutError:
            raise self._stopped(f"after not taking a request for {self._timeout:g} s") from None
        except OSError as exc:
            raise self._stopped("before it had the whole request") from exc

    def _answer(self) -> tuple[int, str]:
        stdout = _DeadlineReader(self._pipes()[1], time.monotonic() + self._timeout)
        try:
            status, message = read_frame(stdout, limit=_MAX_ANSWER_BYTES)
        except TimeoutError:
            raise self._stopped(f"after not answering for {self._timeout:g} s") from None
        except (OSError, EOFError, ValueError, TypeError) as exc:
            raise self._stopped("before answering") from exc
        return int(status), str(message)

    def _pipes(self) -> tuple[int, int]:
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        return process.stdin.fileno(), process.stdout.fileno()

    def _stopped(self, when: str) -> InsertProcessError:
        code = self._discard()
        return InsertProcessError(f"the insert worker stopped (exit code {code}) {when}")

    def abort(self) -> None:
        """Kill the worker and start no other; callable from any thread.

        A transaction in progress on the writer thread then fails at once (its answer can no
        longer come) instead of running to its end, or to the timeout.
        """
        self._aborted = True
        process = self._process  # read once: the writer thread may clear it meanwhile
        if process is not None and process.poll() is None:
            process.kill()

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
            self._reap(process)
        _close_quietly(process.stdout)

    def _discard(self) -> int | None:
        """Kill and reap the current worker, if any; its exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        self.last_exit_code = self._reap(process)
        _close_quietly(process.stdin)
        _close_quietly(process.stdout)
        return self.last_exit_code

    def _reap(self, process: subprocess.Popen[bytes]) -> int | None:
        """Wait for a killed worker's exit code; None if it will not even die (stuck in the
        kernel, say on a hung network file system): it is then left to be reaped later."""
        try:
            return process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._log.error("usage insert worker does not exit after a kill", pid=process.pid)
            return None


def _wait(fd: int, events: int, deadline: float) -> None:
    """Block until `fd` is ready for `events` (or has hung up); TimeoutError at `deadline`."""
    poller = select.poll()
    poller.register(fd, events)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        if poller.poll(left * 1000):
            return


def _write_all(fd: int, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            _wait(fd, select.POLLOUT, deadline)


class _DeadlineReader:
    """Reads a non-blocking `fd` for `read_frame`, raising TimeoutError at `deadline`."""

    def __init__(self, fd: int, deadline: float) -> None:
        self._fd = fd
        self._deadline = deadline

    def read(self, size: int, /) -> bytes:
        """`size` bytes, or fewer if the worker closes its output first."""
        data = bytearray()
        while len(data) < size:
            try:
                chunk = os.read(self._fd, size - len(data))
            except BlockingIOError:
                _wait(self._fd, select.POLLIN, self._deadline)
                continue
            if not chunk:
                break
            data += chunk
        return bytes(data)


def _close_quietly(stream: IO[bytes] | None) -> None:
    if stream is not None:
        try:
            stream.close()
        except OSError:  # a broken pipe's unflushed bytes
            pass
