"""A private `redis-server` for a benchmark: Debian's, on a free loopback port, without
persistence, pinned like the upstream (`make bench-state-store` installs it when missing)."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from spawn import BenchError, child, free_port, pinned, wait_until


@dataclass(frozen=True, slots=True)
class Redis:
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def redis_command(binary: str, port: int, directory: Path) -> list[str]:
    """`redis-server` on 127.0.0.1:`port`, keeping nothing on disk (the limits need no
    persistence: the next headers tell again what a restart lost)."""
    return [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(directory),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
    ]


def pongs(port: int) -> bool:
    """True when 127.0.0.1:`port` answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def run_redis(root: Path, cpu: int | None) -> Iterator[Redis]:
    """Start redis-server (output to `root`/redis.log), pinned to `cpu`; stop it on exit."""
    binary = redis_binary()
    if binary is None:
        raise BenchError("redis-server is missing: apt-get install -y redis-server")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "redis.log"
    with child(pinned(redis_command(binary, port, root), cpu), log) as process:
        wait_until(lambda: pongs(port), what="redis-server", process=process, log=log)
        yield Redis(port=port, pid=process.pid)
