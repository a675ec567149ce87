"""The limit state in Redis beside the memory store, and two workers against one (issue 17).

Run with `make bench-state-store` (or `.venv/bin/python bench/state_store.py --help`). The
set-up of `make bench` (bench/overhead.py): nginx and wrk on one core, plus a private
`redis-server` there too. Three targets, all up for the whole run, recording on:

- `memory`: one `429chain serve` process with `stateStore: memory`, pinned to the other core;
- `redis`: the same with `stateStore` at the Redis (each request's admission is confirmed by
  one Redis script, and its release sent after it), pinned to the same core;
- `redis-2w`: `429chain serve --workers 2` on the Redis, not pinned: two workers on both
  cores, sharing them with nginx, wrk and Redis (a two-core machine has no third).

Each round measures the three one after the other, starting with a different one each round,
and ratios are taken within a round (min / median / max over the rounds): `redis/memory` is
the price of the shared state on one core (target: at least 0.7), `redis-2w/redis` what a
second worker adds. Prints a markdown table and writes it to
bench/results/state-store-<timestamp>.md. Exit 2 when a tool is missing, 1 when a run fails.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from nginx import run_nginx
from overhead import (
    Cores,
    Measurement,
    Options,
    measure,
    missing_tools,
    pick_cores,
    report_run,
)
from payloads import CLIENT_KEY, client_request
from probe import check_answer
from proxy_process import KINDS, run_proxy
from redis_process import redis_binary, run_redis
from rotation import Cell, Round, cpu_us, medians, parsed, ratio_spreads, round_options
from rotation import round_order as rotated
from spawn import BenchError
from wrk import write_script

TARGETS = ("memory", "redis", "redis-2w")
#: The ratios the table shows: target / base, within each round.
RATIOS = (("redis", "memory"), ("redis-2w", "redis"))
#: How long the second worker may take to answer after the first.
WORKERS_READY_S = 20.0


#: A round measures requests/s and CPU µs per request of each target (the workers' CPU is not
#: measured: their supervisor's pid is idle).
StoreRound = Round
StoreCell = Cell  # Cell[Round]; not called through the alias (see upstream_clients.ClientCell)


def round_order(index: int) -> tuple[str, ...]:
    """The targets in the order round `index` measures them."""
    return rotated(TARGETS, index)


def store_table(cells: Sequence[Cell[Round]]) -> str:
    """One row per answer kind and connection count: medians, and per-round ratios' spreads."""
    lines = [
        "| stream | conns | memory req/s | redis req/s | redis, 2 workers req/s | "
        "redis/memory min / med / max | 2 workers/1 worker min / med / max | "
        "CPU µs/req memory, redis |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for cell in cells:
        rps = medians(cell.rounds, "rps", TARGETS)
        cpu = medians(cell.rounds, "cpu_us", ("memory", "redis"))
        spreads = ratio_spreads(cell.rounds, RATIOS)
        lines.append(
            f"| {cell.kind} | {cell.connections} | "
            + " | ".join(f"{rps[t]:,.0f}" for t in TARGETS)
            + " | "
            + " | ".join(spreads)
            + f" | {cpu['memory']:.0f}, {cpu['redis']:.0f} |"
        )
    return "\n".join(lines)


def placement(cores: Cores, redis_on: str = "load") -> str:
    """Where each process ran, in words."""
    if cores.proxy is None:
        return "not pinned (fewer than 2 usable cores: figures include contention)"
    proxies, load = f"memory and redis proxies on core {cores.proxy}", "nginx, wrk"
    if redis_on == "proxy":
        proxies += " with redis-server"
    else:
        load += " and redis-server"
    return (
        f"{proxies}; {load} on core {cores.load}; the two workers not pinned (both cores, "
        "beside all of those)"
    )


def health_pid(port: int) -> int | None:
    """The pid `/health` names on a new connection, None when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        connection.request("GET", "/health")
        answer = connection.getresponse()
        body = answer.read()
    except OSError:
        return None
    finally:
        connection.close()
    if answer.status != 200:
        return None
    return int(json.loads(body)["pid"])


def wait_for_workers(port: int, count: int, timeout_s: float = WORKERS_READY_S) -> set[int]:
    """The pids of `count` workers, once each has answered `/health` on some new connection."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while len(seen) < count:
        if time.monotonic() > deadline:
            raise BenchError(f"{len(seen)} of {count} workers answered in {timeout_s:.0f} s")
        pid = health_pid(port)
        if pid is not None:
            seen.add(pid)
    return seen


def measure_cells(
    urls: dict[str, str],
    pids: dict[str, int | None],
    scripts: dict[str, Path],
    opts: Options,
    cores: Cores,
) -> list[Cell[Round]]:
    cells = []
    for kind in opts.kinds:
        for connections in opts.connections:
            rounds = []
            for index in range(opts.rounds):
                measured: dict[str, Measurement] = {}
                for target in round_order(index):
                    url, pid = urls[target], pids[target]
                    measured[target] = measure(url, scripts[kind], connections, opts, cores, pid)
                this = StoreRound(
                    {t: m.result.rps for t, m in measured.items()},
                    {t: cpu_us(m) for t, m in measured.items()},
                )
                rounds.append(this)
                print(
                    f"  {kind:4} c={connections:<4} round {index + 1}: "
                    + "  ".join(f"{t} {this.rps[t]:>8,.0f}" for t in TARGETS)
                    + f" req/s   redis/memory {this.per('redis', 'memory'):.3f}"
                    + f"  2w/1w {this.per('redis-2w', 'redis'):.3f}",
                    file=sys.stderr,
                    flush=True,
                )
            cells.append(StoreCell(kind, connections, tuple(rounds)))
    return cells


def run(opts: Options, redis_on: str = "load") -> str:
    cores = pick_cores()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="429chain-state-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        scripts = {
            kind: write_script(
                root / f"{kind}.lua", client_request(kind, stream=kind == "sse"), CLIENT_KEY
            )
            for kind in opts.kinds
        }
        nginx = stack.enter_context(run_nginx(root / "nginx", cores.load))
        redis_core = cores.proxy if redis_on == "proxy" else cores.load
        redis = stack.enter_context(run_redis(root / "redis", redis_core))
        shared = {"stateStore": redis.url}
        memory = stack.enter_context(run_proxy(root / "memory", nginx, cores.proxy, recording=True))
        one = stack.enter_context(
            run_proxy(root / "redis", nginx, cores.proxy, recording=True, settings=shared)
        )
        two = stack.enter_context(
            run_proxy(
                root / "redis-2w",
                nginx,
                None,
                recording=True,
                settings=shared,
                serve_args=("--workers", "2"),
            )
        )
        wait_for_workers(two.port, 2)
        urls = {"memory": memory.url, "redis": one.url, "redis-2w": two.url}
        pids: dict[str, int | None] = {"memory": memory.pid, "redis": one.pid, "redis-2w": None}
        for target in TARGETS:
            for kind in opts.kinds:
                check_answer(urls[target], kind)
        cells = measure_cells(urls, pids, scripts, opts, cores)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    lines = [
        f"# 429chain limit state: memory, Redis, two workers, {stamp}",
        "",
        f"- {placement(cores, redis_on)}; 1-minute load average before the run: {load:.2f}",
        f"- wrk: 1 thread, {opts.duration_s} s per run after {opts.warmup_s} s of warm-up; "
        f"{opts.rounds} rounds, the order of the targets rotating; req/s and CPU are "
        "medians over the rounds, ratios min / median / max of the per-round ratios; "
        "recording on",
        "",
        store_table(cells),
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> tuple[Options, str]:
    parser = round_options(__doc__.split("\n\n")[0], rounds=3, concurrency=(32,))
    parser.add_argument("--only", choices=KINDS, help="measure only JSON or only SSE")
    parser.add_argument(
        "--redis-on",
        choices=("load", "proxy"),
        default="load",
        help="the core of redis-server: the load generator's (default) or the proxies'",
    )
    args = parsed(parser, argv)
    opts = Options(
        duration_s=args.duration,
        warmup_s=args.warmup,
        rounds=args.rounds,
        connections=args.concurrency,
        kinds=(args.only,) if args.only else KINDS,
        recordings=(True,),
    )
    return opts, args.redis_on


def main(argv: Sequence[str]) -> int:
    opts, redis_on = parse_args(argv)
    problems = missing_tools()
    if redis_binary() is None:
        problems.append("redis-server is missing: apt-get install -y redis-server")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    return report_run("state-store", lambda: run(opts, redis_on))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
