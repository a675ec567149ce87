"""The proxy's CPU per request on the Redis path alone: the shared tracker's admission and
release against a private `redis-server`, without HTTP (issue 17).

`concurrency` coroutines each loop: admit locally, confirm through Redis (`admit_shared`, the
round trip a request waits for), yield once (the upstream call), release. The process's CPU
time per request is printed, for the shared tracker and for the memory tracker doing the same
walk, and their difference: what the Redis store costs the proxy per request. CPU time (not
wall-clock) is what a loaded machine distorts least; under callgrind
(`valgrind --tool=callgrind --collect-atstart=no --toggle-collect=...`) the same loop gives
instructions per request. Run `.venv/bin/python bench/store_calls.py --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import redis.asyncio as aioredis
import uvloop

from chain429.clock import SystemClock
from chain429.config.schema import ProviderConfig
from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.setup import TrackerSetup
from chain429.limits.state import Reservation
from chain429.limits.tracker import Demand, LimitTracker
from chain429.state_store.redis_store import RedisStore
from chain429.state_store.shared_tracker import SharedTracker
from redis_process import run_redis

POLICY = CooldownPolicy(
    default_s=60.0,
    failure_penalty_s=5.0,
    payment_s=600.0,
    mid_stream_threshold=3,
    mid_stream_s=30.0,
    mid_stream_max_s=100.0,
)
PROVIDER = ProviderConfig.model_validate({"id": "p", "type": "groq", "apiKeys": ["sk-bench"]})


async def walk(tracker: LimitTracker, requests: int, concurrency: int) -> float:
    """CPU seconds (this process) for `requests` admissions and releases."""
    shared = isinstance(tracker, SharedTracker)
    left = requests

    async def one() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            reservation = tracker.admit(PROVIDER, "m")
            assert isinstance(reservation, Reservation)
            if shared:
                confirmed = await tracker.admit_shared(reservation, Demand())
                assert confirmed is reservation, confirmed
            await asyncio.sleep(0)
            tracker.release(reservation)

    started = time.process_time()
    await asyncio.gather(*(one() for _ in range(concurrency)))
    if isinstance(tracker, SharedTracker):
        await tracker.store.flushed()
    return time.process_time() - started


async def measure(url: str, requests: int, concurrency: int, only: str | None) -> None:
    clock = SystemClock()
    store = RedisStore(url)
    await store.start()
    shared = SharedTracker.sharing(TrackerSetup(POLICY), clock, store, 60.0)
    memory = LimitTracker.of(TrackerSetup(POLICY), clock)
    try:
        for name, tracker in (("memory", memory), ("redis", shared)):
            if only and name != only:
                continue
            await walk(tracker, min(requests, 2000), concurrency)  # warm-up
            wall = time.perf_counter()
            cpu = await walk(tracker, requests, concurrency)
            wall = time.perf_counter() - wall
            print(
                f"{name:6} {cpu / requests * 1e6:7.1f} µs CPU/req  "
                f"{requests / wall:9,.0f} req/s wall",
                flush=True,
            )
        if only != "memory":
            print(await redis_side(url), flush=True)
    finally:
        await store.close()


async def redis_side(url: str) -> str:
    """What Redis spent per script call (its own count: INFO commandstats)."""
    client = aioredis.Redis.from_url(url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    parts = []
    for name in ("cmdstat_evalsha", "cmdstat_eval"):
        if name in stats:
            calls, per = stats[name]["calls"], stats[name]["usec_per_call"]
            parts.append(f"{name.removeprefix('cmdstat_')}: {calls:,} calls, {per:.1f} µs each")
    return "redis-server " + "; ".join(parts)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--only", choices=("memory", "redis"))
    parser.add_argument("--redis-url", help="an existing Redis (default: start one)")
    parser.add_argument("--redis-core", type=int, help="pin the started redis-server")
    args = parser.parse_args(argv)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # as `serve` runs
        if args.redis_url:
            runner.run(measure(args.redis_url, args.requests, args.concurrency, args.only))
            return 0
        with tempfile.TemporaryDirectory(prefix="429chain-store-") as tmp:
            with run_redis(Path(tmp), args.redis_core) as redis:
                runner.run(measure(redis.url, args.requests, args.concurrency, args.only))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
