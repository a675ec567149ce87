"""A private Redis for tests: Debian's `redis-server` on a free loopback port, in a temporary
directory, with no persistence, which a test may stop and start again (a Redis outage).

`.ci/run` installs the package. Where it is missing, tests that need it fail under CI (`CI` set)
and are skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
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

    def __init__(
        self,
        executable: str,
        directory: Path,
        *,
        user: str = "",
        password: str = "",
        certificate: Path | None = None,
    ) -> None:
        """`user` and `password`: what the server requires; `certificate`: a PEM file holding
        the certificate and key it serves TLS with (its only port), e.g. `self_signed`'s."""
        self._executable = executable
        self._directory = directory
        self.port = free_port()
        self._process: asyncio.subprocess.Process | None = None
        self._user, self._password = user, password
        self._certificate = certificate

    @property
    def url(self) -> str:
        """redis:// (rediss:// with TLS), with the user and password the server requires."""
        scheme = "rediss" if self._certificate else "redis"
        credentials = f"{self._user}:{self._password}@" if self._password else ""
        return f"{scheme}://{credentials}127.0.0.1:{self.port}/0"

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
            *self._ports(),
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
            *self._access(),
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

    def _ports(self) -> list[str]:
        if self._certificate is None:
            return ["--port", str(self.port)]
        pem = str(self._certificate)
        return [
            *("--port", "0", "--tls-port", str(self.port)),
            *("--tls-cert-file", pem, "--tls-key-file", pem, "--tls-ca-cert-file", pem),
            *("--tls-auth-clients", "no"),
        ]

    def _access(self) -> list[str]:
        """The server arguments requiring the password: of `user` (an ACL user with every
        right; the default user then refuses connections) or of the default user."""
        if not self._password:
            return []
        if self._user:
            rights = (self._user, "on", f">{self._password}", "~*", "&*", "+@all")
            return ["--user", *rights, "--user", "default", "off"]
        return ["--requirepass", self._password]

    def pause(self) -> None:
        """Stop the server without closing its connections (SIGSTOP): it hangs, as a stuck or
        cut-off Redis does."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def client(self) -> aioredis.Redis:
        """A client of this server's database 0; the caller closes it (`aclose`)."""
        if self._certificate is not None:
            return aioredis.Redis.from_url(self.url, ssl_ca_certs=str(self._certificate))
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


def self_signed(directory: Path) -> Path:
    """A PEM file with a key and a certificate for 127.0.0.1 signed by that key (made with
    the `openssl` command, which `.ci/run` installs): a TLS server's, trusted by naming it."""
    pem = directory / "tls.pem"
    key = directory / "tls.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt"),
            *("ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(pem), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    pem.write_text(pem.read_text() + key.read_text())
    return pem
