"""A private Redis for tests: Debian's `redis-server` on a free loopback port, in a temporary
directory, with no persistence, which a test may stop and start again (a Redis outage).

`.ci/run` installs the package. Where it is missing, tests that need it fail under CI (`CI` set)
and are skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from pathlib import Path
from typing import Final

import pytest
import redis.asyncio as aioredis

from tests.support.polling import eventually

REDIS_SERVER: Final = "redis-server"
#: How long a started server may take to answer PING.
START_TIMEOUT_S: Final = 10.0


def redis_server_path() -> str:
    """The `redis-server` to run; fails under CI and skips elsewhere when it is missing."""
    found = shutil.which(REDIS_SERVER)
    if found is not None:
        return found
    message = f"{REDIS_SERVER} is missing: apt-get install redis-server (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One `redis-server` process of a test's own; `url` stays the same across `stop`/`start`."""

    def __init__(self, executable: str, directory: Path) -> None:
        self._executable = executable
        self._directory = directory
        self.port = free_port()
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        """Start the server and wait until it answers PING."""
        assert not self.running, "already running"
        args = [
            self._executable,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self._directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--logfile",
            str(self._directory / "redis.log"),
        ]
        self._process = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL
        )
        await eventually(self._answers, timeout=START_TIMEOUT_S, what="redis-server answers PING")

    async def _answers(self) -> bool:
        process = self._process
        if process is None or process.returncode is not None:
            log = (self._directory / "redis.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"redis-server exited: {log}")
        client = self.client()
        try:
            return bool(await client.ping())
        except (aioredis.ConnectionError, OSError):
            return False
        finally:
            await client.aclose()

    async def stop(self) -> None:
        """Kill the server (an outage: no shutdown save, clients see their connections drop)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        await process.wait()

    def client(self) -> aioredis.Redis:
        """A client of this server's database 0; the caller closes it (`aclose`)."""
        return aioredis.Redis.from_url(self.url)

    async def contents(self) -> list[tuple[bytes, bytes]]:
        """Every key with a dump of its value (strings, hashes, sorted sets, lists, sets)."""
        client = self.client()
        found: list[tuple[bytes, bytes]] = []
        try:
            async for key in client.scan_iter(count=1000):
                found.append((key, await dump_value(client, key)))
        finally:
            await client.aclose()
        return found


async def dump_value(client: aioredis.Redis, key: bytes) -> bytes:
    kind = (await client.type(key)).decode()
    if kind == "string":
        return bytes(await client.get(key) or b"")
    if kind == "hash":
        fields = await client.hgetall(key)
        return b" ".join(k + b"=" + v for k, v in fields.items())
    if kind == "zset":
        members = await client.zrange(key, 0, -1, withscores=True)
        return b" ".join(m + b"@" + str(score).encode() for m, score in members)
    if kind == "list":
        return b" ".join(await client.lrange(key, 0, -1))
    if kind == "set":
        return b" ".join(sorted(await client.smembers(key)))
    return kind.encode()
