"""Instructions per request through 429chain and through the bare relay, counted by callgrind.

Requests/s on this shared machine moves by several percent from run to run; instruction
counts barely move. This starts nginx, then the bare relay (bench/relay.py) and `429chain
serve` (the config of `make bench`, usage recording on unless `--recording off`), each in turn
under valgrind's callgrind (`--separate-threads=yes`), pinned to the proxy core as in
`make bench`. Each checks one answer per kind, then takes `--warmup` seconds of wrk load per
kind (imports, caches, pools, and the usage writer's multi-row INSERTs, each compiled by
SQLAlchemy the first time a batch needs its size: millions of instructions once). Then, in
`--rounds` rounds alternating the kinds: `--settle` seconds of load, counters zeroed with
`callgrind_control`, `--seconds` of load at `--connections`, counters dumped; each turn gives
the instructions of the event loop's thread and of all other threads (the usage writer) per
completed request, and the table shows the median turn. With one connection at most one
request is in flight when a turn ends, so the count is a request's cost to within a fraction
of a percent. The writer writes on its own one-second timer: under valgrind's slowdown its
batches are smaller than at full speed, so the other threads' figure is an upper bound of
what recording costs per request. Run it with `make bench-instructions`.
Exit 2 when a tool is missing, 1 when a run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from nginx import Nginx, nginx_binary, run_nginx
from overhead import pick_cores
from payloads import CLIENT_KEY, client_request
from probe import check_answer
from proxy_process import KINDS, run_proxy, run_relay, upstream_client_args
from recording_instructions import Counts, Dumps, callgrind_command
from redis_process import run_redis
from spawn import BenchError
from wrk import run_wrk_async, write_script, wrk_binary

#: Seconds callgrind may take to bring a process up to its first answer (imports run ~50x slower).
READY_UNDER_VALGRIND_S = 300.0
TARGETS = ("relay", "429chain")
#: `--clients pyreqwest` adds this target: the proxy with the pyreqwest upstream client.
PYREQWEST_TARGET = "429chain-pyreqwest"
#: `--with-redis` adds this target: the proxy with `stateStore` at a private redis-server on
#: the load generator's core (an admission and a release through Redis per request).
REDIS_TARGET = "429chain-redis"


@dataclass(frozen=True, slots=True)
class Options:
    kinds: tuple[str, ...]
    rounds: int
    seconds: int
    settle: int
    warmup: int
    connections: int
    recording: bool
    targets: tuple[str, ...] = TARGETS


@dataclass(frozen=True, slots=True)
class Measured:
    """Every round of one target and answer kind."""

    target: str
    kind: str
    rounds: tuple[Counts, ...]

    def median(self, figure: Callable[[Counts], float]) -> float:
        return statistics.median(figure(c) for c in self.rounds)


class Served(Protocol):
    """The relay or the proxy: a process that serves each answer kind at a URL."""

    @property
    def pid(self) -> int: ...

    def chat_url(self, kind: str) -> str: ...


async def count(url: str, script: Path, opts: Options, dumps: Dumps, cpu: int | None) -> Counts:
    """One measured turn after a settling one: instructions per request, by thread."""
    await run_wrk_async(url, script, connections=opts.connections, duration_s=opts.settle, cpu=cpu)
    await dumps.zero()
    result = await run_wrk_async(
        url, script, connections=opts.connections, duration_s=opts.seconds, cpu=cpu
    )
    loop, others = await dumps.take()
    if result.errors or not result.requests:
        raise BenchError(f"{url}: {result.requests} requests, {result.error_summary()}")
    return Counts(result.requests, loop / result.requests, others / result.requests)


def started(
    name: str, root: Path, nginx: Nginx, cpu: int | None, opts: Options, redis_url: str = ""
) -> AbstractContextManager[Served]:
    wrapper = callgrind_command(root)
    if name == "relay":
        return run_relay(root, nginx, cpu, wrapper=wrapper, ready_timeout_s=READY_UNDER_VALGRIND_S)
    return run_proxy(
        root,
        nginx,
        cpu,
        recording=opts.recording,
        wrapper=wrapper,
        ready_timeout_s=READY_UNDER_VALGRIND_S,
        serve_args=upstream_client_args("pyreqwest" if name == PYREQWEST_TARGET else "aiohttp"),
        settings={"stateStore": redis_url} if name == REDIS_TARGET else None,
    )


async def measure_target(
    name: str, root: Path, nginx: Nginx, scripts: dict[str, Path], opts: Options
) -> list[Measured]:
    cores = pick_cores()
    with ExitStack() as stack:
        redis_url = ""
        if name == REDIS_TARGET:
            redis_url = stack.enter_context(run_redis(root / "redis", cores.load)).url
        served = stack.enter_context(started(name, root, nginx, cores.proxy, opts, redis_url))
        dumps = Dumps(root, served.pid)
        for kind in opts.kinds:
            check_answer(served.chat_url(kind), kind)
            await run_wrk_async(
                served.chat_url(kind),
                scripts[kind],
                connections=opts.connections,
                duration_s=opts.warmup,
                cpu=cores.load,
            )
        rounds: dict[str, list[Counts]] = {kind: [] for kind in opts.kinds}
        for index in range(opts.rounds):
            for kind in opts.kinds:
                counts = await count(served.chat_url(kind), scripts[kind], opts, dumps, cores.load)
                rounds[kind].append(counts)
                print(
                    f"  {name} {kind} round {index + 1}: {counts.requests} requests, "
                    f"{counts.total:,.0f} instructions/request",
                    file=sys.stderr,
                    flush=True,
                )
        results = [Measured(name, kind, tuple(rounds[kind])) for kind in opts.kinds]
    return results


def instructions_table(measured: Sequence[Measured]) -> str:
    """One row per target and kind (medians over rounds), with the proxy's ratio to the relay."""
    relay = {m.kind: m.median(lambda c: c.total) for m in measured if m.target == "relay"}
    lines = [
        "| target | stream | requests | event loop instr/req | other threads instr/req | "
        "total instr/req | per round | vs relay |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for m in measured:
        total = m.median(lambda c: c.total)
        base = relay.get(m.kind)
        versus = (
            f"{total / base:.2f}x (+{total - base:,.0f})" if base and m.target != "relay" else ""
        )
        lines.append(
            f"| {m.target} | {m.kind} | {sum(c.requests for c in m.rounds):,} | "
            f"{m.median(lambda c: c.loop):,.0f} | {m.median(lambda c: c.others):,.0f} | "
            f"{total:,.0f} | {', '.join(f'{c.total:,.0f}' for c in m.rounds)} | {versus} |"
        )
    return "\n".join(lines)


async def run(opts: Options, root: Path) -> list[Measured]:
    cores = pick_cores()
    scripts = {
        kind: write_script(
            root / f"{kind}.lua", client_request(kind, stream=kind == "sse"), CLIENT_KEY
        )
        for kind in opts.kinds
    }
    measured: list[Measured] = []
    with run_nginx(root / "nginx", cores.load) as nginx:
        for name in opts.targets:
            print(f"{name} under callgrind:", file=sys.stderr, flush=True)
            target_root = root / name
            target_root.mkdir()
            measured += await measure_target(name, target_root, nginx, scripts, opts)
    return measured


def _parse(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured turns per target and kind")
    parser.add_argument("--seconds", type=int, default=20, help="measured seconds per turn")
    parser.add_argument("--settle", type=int, default=3, help="seconds of load before each turn")
    parser.add_argument(
        "--warmup", type=int, default=15, help="seconds of load per kind before the first turn"
    )
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--recording", choices=("on", "off"), default="on")
    parser.add_argument("--only", choices=KINDS)
    parser.add_argument(
        "--with-pyreqwest",
        action="store_true",
        help=f"also count the proxy with the pyreqwest upstream client ({PYREQWEST_TARGET})",
    )
    parser.add_argument(
        "--with-redis",
        action="store_true",
        help=f"also count the proxy sharing its limits through a redis-server ({REDIS_TARGET})",
    )
    args = parser.parse_args(argv)
    if min(args.rounds, args.seconds, args.settle, args.warmup, args.connections) < 1:
        parser.error("--rounds, --seconds, --settle, --warmup and --connections must be positive")
    kinds = (args.only,) if args.only else KINDS
    return Options(
        kinds,
        args.rounds,
        args.seconds,
        args.settle,
        args.warmup,
        args.connections,
        args.recording == "on",
        (
            *TARGETS,
            *((PYREQWEST_TARGET,) if args.with_pyreqwest else ()),
            *((REDIS_TARGET,) if args.with_redis else ()),
        ),
    )


def main(argv: Sequence[str]) -> int:
    opts = _parse(argv)
    missing = [t for t in ("valgrind", "callgrind_control", "taskset") if shutil.which(t) is None]
    if nginx_binary() is None or wrk_binary() is None or missing:
        print(
            "needs nginx, wrk and valgrind: apt-get install -y nginx wrk valgrind", file=sys.stderr
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="429chain-instructions-") as tmp:
        try:
            measured = asyncio.run(run(opts, Path(tmp)))
        except BenchError as exc:
            print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
            return 1
    print(
        f"Instructions per request, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"{opts.connections} connection(s), {opts.seconds} s turns after {opts.settle} s of "
        f"load, recording {'on' if opts.recording else 'off'}\n"
    )
    print(instructions_table(measured))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
