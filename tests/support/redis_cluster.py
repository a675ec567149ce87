"""A private Redis Cluster for tests: three masters (no replicas) of Debian's `redis-server`,
each on free loopback ports in a temporary directory, joined by `redis-cli --cluster create`;
a test may stop a node and start it again (it comes back with its slots: its `nodes.conf` stays).

Started once per test session (per xdist worker) by the `redis_cluster_servers` fixture,
emptied before each test by `redis_cluster`. Where `redis-server` is missing, tests that need
it fail under CI and are skipped elsewhere (see `redis_server`).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from tests.support.polling import eventually
from tests.support.redis_server import RedisServer, dump_value, free_port

REDIS_CLI: Final = "redis-cli"
MASTERS: Final = 3
#: For a replica test that runs on one Redis server and on a cluster (`shared_redis`).
ON_A_CLUSTER_TOO: Final = pytest.mark.parametrize(
    "shared_redis", ["redis", "redis-cluster"], indirect=True
)
#: How long the cluster may take to come up (every node answering, every slot served).
START_TIMEOUT_S: Final = 20.0
#: Milliseconds without an answer before the nodes hold one failed: short, so a stopped node is
#: noticed (and a returning one taken back) soon.
NODE_TIMEOUT_MS: Final = 1000


def redis_cli_path() -> str:
    found = shutil.which(REDIS_CLI)
    if found is None:
        pytest.fail(f"{REDIS_CLI} is missing: it comes with redis-server (redis-tools)")
    return found


class ClusterNode:
    """One `redis-server` of the cluster, on its own port and cluster-bus port."""

    def __init__(self, executable: str, directory: Path) -> None:
        self._executable = executable
        self.directory = directory
        self.port = free_port()
        self.bus_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def launch(self) -> None:
        """Start the process (not waiting for it: see `answers`); Popen, not asyncio, so the
        node outlives the event loop of the test that started it."""
        assert not self.running, "already running"
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            self._executable,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "no",
            "--logfile", str(self.directory / "redis.log"),
            "--cluster-enabled", "yes",
            "--cluster-port", str(self.bus_port),
            "--cluster-config-file", "nodes.conf",  # in `directory`: a restart keeps its slots
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
        ]  # fmt: skip
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL)

    def kill(self) -> None:
        """An outage: the process is killed, its clients see their connections drop."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()

    def client(self) -> aioredis.Redis:
        """A plain client of this node; the caller closes it (`aclose`)."""
        return aioredis.Redis(host="127.0.0.1", port=self.port)

    async def info(self, field: str) -> str | None:
        """A field of `CLUSTER INFO`, None while the node does not answer."""
        if self._process is not None and self._process.poll() is not None:
            log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"redis-server exited: {log}")
        client = self.client()
        try:
            info = await client.execute_command("CLUSTER INFO")
        except (aioredis.ConnectionError, OSError):
            return None
        finally:
            await client.aclose()
        value = info.get(field)
        return None if value is None else str(value)


class RedisClusterServers:
    """A three-master Redis Cluster of a test session's own; `url` is its `redis+cluster://`."""

    def __init__(self, executable: str, cli: str, directory: Path) -> None:
        self._cli = cli
        self.nodes = [ClusterNode(executable, directory / f"node{i}") for i in range(MASTERS)]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(node.address for node in self.nodes)

    async def create(self) -> None:
        """Start every node, join them into one cluster sharing the slots, and wait until it
        serves every slot."""
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            await eventually(
                lambda n=node: _answers(n), timeout=START_TIMEOUT_S, what="a node answers"
            )
        joining = await asyncio.create_subprocess_exec(
            self._cli,
            "--cluster", "create",
            *(node.address for node in self.nodes),
            "--cluster-replicas", "0",
            "--cluster-yes",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await joining.communicate()
        if joining.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {output.decode()[-2000:]}")
        await self.ready()

    async def ready(self) -> None:
        """Start the nodes a test stopped, and wait until every node says the cluster is ok."""
        for node in self.nodes:
            if not node.running:
                node.launch()
        for node in self.nodes:
            await eventually(
                lambda n=node: _ok(n), timeout=START_TIMEOUT_S, what="cluster_state:ok"
            )

    async def flush(self) -> None:
        """Empty every node (and forget their scripts), as a fresh Redis would be."""
        for node in self.nodes:
            client = node.client()
            try:
                await client.flushall()
                await client.script_flush()
            finally:
                await client.aclose()

    async def start(self, node: ClusterNode) -> None:
        """Start `node` again and wait until the cluster serves every slot."""
        node.launch()
        await self.ready()

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()

    async def node_serving(self, slot: int) -> ClusterNode:
        """The node that holds `slot`."""
        client = self.nodes[0].client()
        try:
            ranges = await client.cluster("SLOTS")
        finally:
            await client.aclose()
        (port,) = [int(master[1]) for start, end, master, *_ in ranges if start <= slot <= end]
        (node,) = [node for node in self.nodes if node.port == port]
        return node

    async def contents(self) -> list[tuple[bytes, bytes]]:
        """Every key of every node with a dump of its value (see `RedisServer.contents`)."""
        found: list[tuple[bytes, bytes]] = []
        for node in self.nodes:
            client = node.client()
            try:
                async for key in client.scan_iter(count=1000):
                    found.append((key, await dump_value(client, key)))
            finally:
                await client.aclose()
        return found

    async def keys_on(self, node: ClusterNode) -> set[bytes]:
        """The keys `node` holds."""
        client = node.client()
        try:
            return {key async for key in client.scan_iter(count=1000)}
        finally:
            await client.aclose()


async def _answers(node: ClusterNode) -> bool:
    return await node.info("cluster_state") is not None


async def _ok(node: ClusterNode) -> bool:
    return await node.info("cluster_state") == "ok"


async def outage(
    shared: RedisServer | RedisClusterServers, key: str
) -> Callable[[], Awaitable[None]]:
    """Stop `shared` (of a cluster, the node that holds `key`); what starts it again."""
    if isinstance(shared, RedisServer):
        await shared.stop()
        return shared.start
    node = await shared.node_serving(key_slot(key.encode()))
    node.kill()
    return lambda: shared.start(node)
