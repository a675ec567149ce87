"""`429chain serve --workers N`: N processes serve one port, started and stopped together.

The supervisor (the process the user started) binds the port first, with SO_REUSEPORT, so
that a port in use is refused at once and port 0 becomes one real port for every worker; it
then starts N `429chain serve` processes on that port, each listening with SO_REUSEPORT (the
kernel spreads new connections across them). It serves nothing itself.

Signals: SIGTERM and SIGINT are passed on to every worker as SIGTERM (each drains as a single
proxy does), and the supervisor exits once they all have: 0 when every worker drained and
exited 0. SIGHUP is passed on to every worker, which reloads the config file. A change made
through the management API, a reload (`POST /api/config/reload`) included, reaches the other
workers through Redis, as it reaches replicas (`state_store.config_sharing`): only the worker
that took it writes the file (a reload writes none).

A worker that exits when no stop was asked for stops the others, and the supervisor exits
with 1. Restarting it would hide a crash loop (a worker that cannot start would fail again and
again) behind a server that looks up; exiting hands the decision to the service manager
(systemd's `Restart=`, Kubernetes), which already restarts, with back-off, and reports it.
Workers end with their supervisor: each asks the kernel for a SIGTERM when it dies (Linux).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import structlog

from chain429.config.schema import MEMORY_STORE, Settings
from chain429.errors import StartupError
from chain429.server import listen_error

log = structlog.get_logger("chain429.workers")

#: Linux's prctl option that signals a process when its parent dies.
_PR_SET_PDEATHSIG: Final = 1
_SIGNALS_PASSED_ON: Final = {
    signal.SIGTERM: signal.SIGTERM,
    signal.SIGINT: signal.SIGTERM,
    signal.SIGHUP: signal.SIGHUP,
}


def workers_problem(workers: int, settings: Settings) -> StartupError | None:
    """Why `workers` processes cannot serve `settings`, or None."""
    if workers <= 1 or settings.state_store != MEMORY_STORE:
        return None
    return StartupError(
        f"--workers {workers} needs a shared limit state: with the memory store each worker "
        "would keep its own limits, and together they would send more than a limit allows; "
        "set settings.stateStore to a redis:// URL",
        "settings.stateStore",
    )


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` with SO_REUSEPORT and not listening: it keeps the port
    for the workers (port 0 becomes a free one) and receives no connection itself."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise listen_error(exc, host, port) from exc
    return sock


@dataclass(frozen=True, slots=True)
class WorkerRole:
    """A process started by `serve --workers`: it listens with SO_REUSEPORT and names its pid
    in its banner."""

    supervisor_pid: int


def worker_argv(serve_args: Sequence[str], port: int, supervisor_pid: int) -> list[str]:
    """The command line of one worker: `serve` with the user's options, on `port`."""
    return [
        sys.executable,
        "-m",
        "chain429",
        "serve",
        *serve_args,
        "--port",
        str(port),
        "--worker-of",
        str(supervisor_pid),
    ]


def _end_with_parent(parent: int) -> None:
    """In the worker, before it runs: a SIGTERM when the supervisor dies (Linux only)."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


class Supervisor:
    """Starts the workers, passes signals on to them, and ends when they have all ended."""

    def __init__(self, argv: Sequence[str], count: int) -> None:
        self._argv = list(argv)
        self._count = count
        self._workers: list[asyncio.subprocess.Process] = []
        self._stopping = False

    async def run(self) -> int:
        """Run the workers until they end; the exit code for the supervisor."""
        loop = asyncio.get_running_loop()
        for received, passed_on in _SIGNALS_PASSED_ON.items():
            loop.add_signal_handler(received, self._pass_on, received, passed_on)
        pid = os.getpid()
        for _ in range(self._count):
            self._workers.append(
                await asyncio.create_subprocess_exec(
                    *self._argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    preexec_fn=lambda: _end_with_parent(pid),
                )
            )
        if self._stopping:  # a stop that came while they were starting reached only some
            self._signal_all(signal.SIGTERM)
        log.info("workers started", pids=[w.pid for w in self._workers])
        waits = {asyncio.ensure_future(w.wait()): w for w in self._workers}
        failed = False
        pending = set(waits)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for finished in done:
                worker, code = waits[finished], finished.result()
                if code != 0 or not self._stopping:
                    failed = True
                if not self._stopping:
                    log.error(
                        "a worker exited: stopping the others",
                        pid=worker.pid,
                        exit_code=code,
                    )
                    self._signal_all(signal.SIGTERM)
        return 1 if failed else 0

    def _pass_on(self, received: signal.Signals, passed_on: signal.Signals) -> None:
        if passed_on == signal.SIGTERM:
            self._stopping = True
        log.info("signal passed on to the workers", signal=received.name)
        self._signal_all(passed_on)

    def _signal_all(self, signum: signal.Signals) -> None:
        if signum == signal.SIGTERM:
            self._stopping = True
        for worker in self._workers:
            if worker.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.send_signal(signum)
