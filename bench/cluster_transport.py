"""What a batch of the shared state's scripts costs this process to send, on one Redis server
and on a three-master Redis Cluster: the cluster store's own transport (`state_store.cluster`)
against redis-py's `RedisCluster` pipeline (the transport it could have used) and against the
single-node pipeline. CPU microseconds of this process per call (the Redis servers run in
their own processes), alternating rounds, median and spread.

    .venv/bin/python bench/cluster_transport.py [--batch 32] [--batches 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster

from chain429.config.cluster_url import parse_cluster_url
from chain429.state_store.cluster import ClusterCall, ClusterClient
from chain429.state_store.names import key_fingerprint, slot_keys
from chain429.state_store.redis_store import SCRIPTS, Arg

Send = Callable[[list[ClusterCall]], Awaitable[list[Any]]]


def fixtures(name: str) -> Any:
    """The tests' private servers (`tests/support/redis_server.py`, `redis_cluster.py`), imported
    when the benchmark runs: bench/ is type-checked strictly, test support is not."""
    return importlib.import_module(f"tests.support.{name}")


def batch(size: int) -> list[ClusterCall]:
    """`size` admissions over 8 provider keys (so over every master), as a burst makes."""
    now = time.time()
    calls = []
    for i in range(size):  # an admission checking one window of a model (see scripts.ADMIT)
        keys = slot_keys("p", key_fingerprint("p", f"key-{i % 8}"))
        lease: list[Arg] = [now, "m", "0", 0, f"lease-{i}", now + 40, "0"]
        window: list[Arg] = ["M/requests/minute", 1000000, 1000000, now + 60, 60, "header"]
        calls.append(ClusterCall("admit", keys, [*lease, *window]))
    return calls


async def measure(send: Send, calls: list[ClusterCall], batches: int) -> float:
    """CPU microseconds of this process per call."""
    await send(calls)  # warm: connections made, scripts loaded
    start = time.process_time()
    for _ in range(batches):
        answers = await send(calls)
        assert all(isinstance(a, list) for a in answers), answers[:3]
    return (time.process_time() - start) / (batches * len(calls)) * 1e6


async def main(size: int, batches: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        servers, clusters = fixtures("redis_server"), fixtures("redis_cluster")
        executable = servers.redis_server_path()
        single = servers.RedisServer(executable, Path(directory))
        cluster = clusters.RedisClusterServers(
            executable, clusters.redis_cli_path(), Path(directory) / "cluster"
        )
        await single.start()
        await cluster.create()
        try:
            await compare(single, cluster, batch(size), batches, rounds)
        finally:
            await single.stop()
            cluster.stop()


async def compare(
    single: Any,
    cluster: Any,
    calls: list[ClusterCall],
    batches: int,
    rounds: int,
) -> None:
    ours = ClusterClient(parse_cluster_url(cluster.url), SCRIPTS, 1.0)
    await ours.ensure_ok()
    await ours.load(ours.masters)
    nodes = [ClusterNode("127.0.0.1", node.port) for node in cluster.nodes]
    theirs = RedisCluster(startup_nodes=nodes)
    plain = aioredis.Redis.from_url(single.url)
    for text in SCRIPTS.values():
        await plain.script_load(text)

    async def pipelined(
        client: aioredis.Redis | RedisCluster, calls: list[ClusterCall]
    ) -> list[Any]:
        async with client.pipeline(transaction=False) as pipe:
            for call in calls:
                pipe.evalsha(ours.shas[call.script], len(call.keys), *call.keys, *call.args)
            return list(await pipe.execute(raise_on_error=False))

    sends: dict[str, Send] = {
        "one server, redis-py pipeline": lambda c: pipelined(plain, c),
        "cluster, ClusterClient (ours)": ours.run,
        "cluster, redis-py RedisCluster pipeline": lambda c: pipelined(theirs, c),
    }
    figures: dict[str, list[float]] = {name: [] for name in sends}
    for _ in range(rounds):
        for name, send in sends.items():
            figures[name].append(await measure(send, calls, batches))
    print(f"{len(calls)} admissions per batch, {batches} batches, {rounds} rounds")
    print("| transport | CPU µs per call, median | min | max |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in figures.items():
        print(
            f"| {name} | {statistics.median(values):.1f} | {min(values):.1f} | {max(values):.1f} |"
        )
    await ours.aclose()
    await theirs.aclose()
    await plain.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.batch, options.batches, options.rounds))
