"""Child processes of a benchmark: started pinned to a core, waited for, always stopped.

Every child gets its own session (so a terminal's Ctrl-C reaches only the benchmark, which then
stops its children in order) and is asked by the kernel to die with the benchmark even if the
benchmark itself is killed with SIGKILL (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

STOP_TIMEOUT_S = 5.0
POLL_INTERVAL_S = 0.02
_PR_SET_PDEATHSIG = 1


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def pinned(command: Sequence[str], cpu: int | None) -> list[str]:
    """`command` run through `taskset` on `cpu` (or as is when there is no core to pin to)."""
    return list(command) if cpu is None else ["taskset", "-c", str(cpu), *command]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def child(command: Sequence[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` with its stdout and stderr in `log`; stop its process group on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # safe: the benchmark starts no threads
        )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it has not gone in time."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(STOP_TIMEOUT_S)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    process: subprocess.Popen[bytes],
    log: Path,
    timeout_s: float = 20.0,
) -> None:
    """Poll `ready` until it is true; fail with the child's log if it exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None:
            raise BenchError(f"{what} exited with {process.returncode}:\n{tail(log)}")
        if time.monotonic() > deadline:
            raise BenchError(f"{what} not ready after {timeout_s:.0f} s:\n{tail(log)}")
        time.sleep(POLL_INTERVAL_S)


def answers(port: int, path: str) -> bool:
    """True when 127.0.0.1:`port` answers GET `path` with a 2xx."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        connection.request("GET", path)
        return 200 <= connection.getresponse().status < 300
    except OSError:
        return False
    finally:
        connection.close()


def tail(log: Path, lines: int = 30) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"
