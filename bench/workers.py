"""Two workers against one on a two-core machine (issue 17): the figures such a machine can
honestly give when the load generator, the upstream and Redis need CPU too.

Run with `make bench-workers` (or `.venv/bin/python bench/workers.py --help`). nginx, wrk (one
thread) and a private redis-server run on one core, the load core. Three targets, each
`429chain serve` with its limit state in that Redis, all up for the whole run:

- `1w`: one process, pinned to the other core (the proxy core);
- `2w-1core`: `--workers 2`, pinned to the proxy core too: the CPU of `1w` split over two
  processes, so what differs from `1w` is what the split itself costs (the kernel spreading
  connections over two sockets with SO_REUSEPORT, two event loops, two Redis connections
  taking turns at the same keys, two writers of one SQLite file);
- `2w`: `--workers 2`, not pinned: both cores, beside nginx, wrk and Redis.

Each round measures the three in turn (a different one first each round) and records, per
target: requests/s; CPU µs per request of the proxy (all its workers), of redis-server and of
the load (nginx and wrk); each worker's share of the requests (its own
`chain429_requests_total`, read on a connection that worker answers); what explains a cost
per request that differs: the proxy's context switches per request (how many requests an
event loop's wake-up serves) and redis-server's reads per request (how many admissions and
releases one batch of a worker's pipeline carries); the load average. From
the CPU per request follows the most two cores could serve at those costs (`ceiling`: 2 s of
CPU per second over the sum): a `2w` figure near it is the machine's limit, not the proxy's.
Prints a markdown table and writes it to bench/results/workers-<timestamp>.md. Exit 2 when a
tool is missing, 1 when a run fails.
"""

from __future__ import annotations

import http.client
import json
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from nginx import run_nginx
from overhead import Cores, Options, missing_tools, pick_cores, report_run
from overhead_table import Spread, ratio
from payloads import CLIENT_KEY, client_request
from probe import check_answer
from proxy_process import KINDS, context_switches, cpu_seconds, run_proxy
from redis_process import redis_binary, run_redis
from rotation import parsed, round_options, round_order
from spawn import BenchError
from state_store import wait_for_workers
from wrk import WrkResult, run_wrk, write_script

TARGETS = ("1w", "2w-1core", "2w")
#: The parts whose CPU is counted per request.
PARTS = ("proxy", "redis", "load")
#: How many tries at a new connection to reach every worker's `/metrics`.
SCRAPE_TRIES = 200
_COUNTER = "chain429_requests_total"


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured run of one target."""

    rps: float
    requests: int
    cpu_s: Mapping[str, float]  # per part (`PARTS`), during the measured run
    shares: tuple[float, ...]  # each worker's share of the requests it served, largest first
    switches: int  # the proxy's context switches (all its workers) during the run
    redis_reads: int  # reads redis-server processed during the run (`total_reads_processed`)
    load: float  # 1-minute load average as the run started

    def cpu_us(self, part: str) -> float:
        return ratio(self.cpu_s[part] * 1e6, self.requests)

    def per_request(self, count: int) -> float:
        return ratio(count, self.requests)

    @property
    def ceiling(self) -> float:
        """Requests/s two cores could serve at this run's CPU per request of every part."""
        return ratio(2e6, sum(self.cpu_us(part) for part in PARTS))


Round = Mapping[str, Sample]


@dataclass(frozen=True, slots=True)
class Cell:
    kind: str
    connections: int
    rounds: tuple[Round, ...]


def requests_counted(metrics: str) -> float:
    """The sum of every `chain429_requests_total` series in a `/metrics` page."""
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith((f"{_COUNTER}{{", f"{_COUNTER} ")):
            total += float(line.rsplit(" ", 1)[1])
    return total


def shares_of(before: Mapping[int, float], after: Mapping[int, float]) -> tuple[float, ...]:
    """Each worker's share of the requests served between two readings, largest first."""
    served = [after[pid] - before.get(pid, 0.0) for pid in after]
    total = sum(served)
    return tuple(sorted((ratio(s, total) for s in served), reverse=True))


def worker_requests(port: int, pids: set[int]) -> dict[int, float]:
    """Each worker's `chain429_requests_total`: on new connections until each worker has
    answered one (a connection belongs to the worker that accepted it; `/health` names it)."""
    found: dict[int, float] = {}
    for _ in range(SCRAPE_TRIES):
        if set(found) == pids:
            return found
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5.0)
        try:
            connection.request("GET", "/health")
            pid = int(json.loads(connection.getresponse().read())["pid"])
            if pid in pids and pid not in found:
                headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
                connection.request("GET", "/metrics", headers=headers)
                found[pid] = requests_counted(connection.getresponse().read().decode())
        finally:
            connection.close()
    raise BenchError(f"{len(found)} of {len(pids)} workers reached in {SCRAPE_TRIES} connections")


def info_field(info: str, name: str) -> int:
    """A field of a Redis `INFO` answer, as an integer."""
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return int(value)
    raise BenchError(f"redis-server's INFO has no {name}")


def redis_reads(port: int) -> int:
    """How many reads redis-server has processed so far (`INFO stats`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:
        sock.sendall(b"INFO stats\r\n")
        answer = sock.recv(65536)
        while b"\r\n" not in answer:
            answer += sock.recv(65536)
        size, _, rest = answer.partition(b"\r\n")  # a bulk string: `$<size>`, then the text
        while len(rest) < int(size[1:]):
            rest += sock.recv(65536)
    return info_field(rest.decode(), "total_reads_processed")


def children_cpu_s() -> float:
    """CPU time of this process's children that have ended (wrk's runs)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    port: int
    workers: set[int]  # the pids serving (the supervisor of `--workers` serves nothing)


@dataclass(frozen=True, slots=True)
class Rig:
    """What every target shares: redis-server and nginx."""

    redis_pid: int
    redis_port: int
    nginx_pid: int


@dataclass(frozen=True, slots=True)
class Counters:
    """What the processes have used so far: CPU seconds per part, the proxy's context
    switches, redis-server's reads."""

    cpu_s: Mapping[str, float]
    switches: int
    redis_reads: int

    @classmethod
    def read(cls, target: Target, rig: Rig) -> Counters:
        cpu_s = {
            "proxy": sum(cpu_seconds(pid) for pid in target.workers),
            "redis": cpu_seconds(rig.redis_pid),
            "load": cpu_seconds(rig.nginx_pid) + children_cpu_s(),  # wrk: an ended child
        }
        switches = sum(context_switches(pid) for pid in target.workers)
        return cls(cpu_s, switches, redis_reads(rig.redis_port))


def measure(
    target: Target, script: Path, connections: int, opts: Options, cores: Cores, rig: Rig
) -> Sample:
    """A warm-up run, then the measured one; fail when any request of either went wrong."""
    runs = [opts.warmup_s, opts.duration_s] if opts.warmup_s else [opts.duration_s]
    for duration in runs:
        load = os.getloadavg()[0]
        counted = worker_requests(target.port, target.workers)
        before = Counters.read(target, rig)
        result = run_wrk(
            target.url, script, connections=connections, duration_s=duration, cpu=cores.load
        )
        after = Counters.read(target, rig)
        _checked(result, target.url, connections)
    shares = shares_of(counted, worker_requests(target.port, target.workers))
    cpu_s = {part: after.cpu_s[part] - before.cpu_s[part] for part in PARTS}
    switches, reads = after.switches - before.switches, after.redis_reads - before.redis_reads
    return Sample(result.rps, result.requests, cpu_s, shares, switches, reads, load)


def _checked(result: WrkResult, url: str, connections: int) -> None:
    if result.errors or not result.requests:
        raise BenchError(
            f"{url} with {connections} connections: {result.requests} requests, errors "
            f"({result.error_summary()}); the figures would be meaningless"
        )


def _spread(values: Sequence[float], fmt: str) -> str:
    return Spread.of(values).show(lambda v: format(v, fmt))


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def targets_table(cells: Sequence[Cell]) -> str:
    """One row per cell and target: req/s over the rounds, medians of the CPU µs per request
    of each part and of the two-core ceiling, of the share of the busiest worker, and of the
    proxy's context switches and redis-server's reads per request."""
    lines = [
        "| stream | conns | target | req/s min / med / max | proxy CPU µs/req | "
        "redis-server µs/req | nginx + wrk µs/req | two-core ceiling req/s | busiest worker | "
        "proxy switches/req | redis reads/req |",
        "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cell in cells:
        for target in TARGETS:
            samples = [r[target] for r in cell.rounds]
            cpu = [f"{_median([s.cpu_us(part) for s in samples]):.0f}" for part in PARTS]
            ceiling = _median([s.ceiling for s in samples])
            busiest = _median([s.shares[0] for s in samples])
            switches = _median([s.per_request(s.switches) for s in samples])
            reads = _median([s.per_request(s.redis_reads) for s in samples])
            lines.append(
                f"| {cell.kind} | {cell.connections} | {target} | "
                f"{_spread([s.rps for s in samples], ',.0f')} | {' | '.join(cpu)} | "
                f"{ceiling:,.0f} | {busiest:.0%} | {switches:.2f} | {reads:.2f} |"
            )
    return "\n".join(lines)


def ratios_table(cells: Sequence[Cell]) -> str:
    """Per cell, min / median / max over the rounds of ratios taken within each round."""
    lines = [
        "| stream | conns | 2w-1core / 1w req/s | 2w-1core / 1w proxy µs/req | "
        "2w / 1w req/s | 2w / 1w proxy µs/req | 2w req/s / its ceiling |",
        "| --- | ---: | --- | --- | --- | --- | --- |",
    ]
    for cell in cells:
        rounds = cell.rounds
        saturation = _spread([ratio(r["2w"].rps, r["2w"].ceiling) for r in rounds], ".2f")
        lines.append(
            f"| {cell.kind} | {cell.connections} | {_per(rounds, '2w-1core', 'rps')} | "
            f"{_per(rounds, '2w-1core', 'proxy')} | {_per(rounds, '2w', 'rps')} | "
            f"{_per(rounds, '2w', 'proxy')} | {saturation} |"
        )
    return "\n".join(lines)


def _per(rounds: Sequence[Round], target: str, field: str) -> str:
    """min / median / max over `rounds` of `target`'s `field` (`rps`, or a part's CPU µs per
    request) against `1w`'s in the same round."""
    values = [ratio(_field(r[target], field), _field(r["1w"], field)) for r in rounds]
    return _spread(values, ".3f")


def _field(sample: Sample, field: str) -> float:
    return sample.rps if field == "rps" else sample.cpu_us(field)


def load_line(cells: Sequence[Cell]) -> str:
    loads = [s.load for cell in cells for r in cell.rounds for s in r.values()]
    return f"1-minute load average as each run started: {_spread(loads, '.2f')} (min / med / max)"


def measure_cells(
    targets: Mapping[str, Target],
    scripts: Mapping[str, Path],
    opts: Options,
    cores: Cores,
    rig: Rig,
) -> list[Cell]:
    cells = []
    for kind in opts.kinds:
        for connections in opts.connections:
            rounds: list[Round] = []
            for index in range(opts.rounds):
                measured = {
                    name: measure(targets[name], scripts[kind], connections, opts, cores, rig)
                    for name in round_order(TARGETS, index)
                }
                rounds.append(measured)
                print(
                    f"  {kind:4} c={connections:<4} round {index + 1}: "
                    + "  ".join(
                        f"{name} {measured[name].rps:>7,.0f} req/s "
                        f"{measured[name].cpu_us('proxy'):>4.0f} µs"
                        for name in TARGETS
                    ),
                    file=sys.stderr,
                    flush=True,
                )
            cells.append(Cell(kind, connections, tuple(rounds)))
    return cells


def run(opts: Options) -> str:
    cores = pick_cores()
    if cores.proxy is None:
        raise BenchError("two usable cores are needed: one for the proxies, one for the load")
    with tempfile.TemporaryDirectory(prefix="429chain-workers-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        scripts = {
            kind: write_script(
                root / f"{kind}.lua", client_request(kind, stream=kind == "sse"), CLIENT_KEY
            )
            for kind in opts.kinds
        }
        nginx = stack.enter_context(run_nginx(root / "nginx", cores.load))
        redis = stack.enter_context(run_redis(root / "redis", cores.load))
        shared = {"stateStore": redis.url}
        recording = opts.recordings[0]
        two = ("--workers", "2")
        placed = {"1w": (cores.proxy, ()), "2w-1core": (cores.proxy, two), "2w": (None, two)}
        targets: dict[str, Target] = {}
        for name, (cpu, serve_args) in placed.items():
            proxy = stack.enter_context(
                run_proxy(
                    root / name,
                    nginx,
                    cpu,
                    recording=recording,
                    settings=shared,
                    serve_args=serve_args,
                )
            )
            workers = wait_for_workers(proxy.port, 2) if serve_args else {proxy.pid}
            targets[name] = Target(proxy.url, proxy.port, workers)
            for kind in opts.kinds:
                check_answer(proxy.url, kind)
        rig = Rig(redis.pid, redis.port, nginx.pid)
        cells = measure_cells(targets, scripts, opts, cores, rig)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    lines = [
        f"# 429chain: two workers against one on two cores, {stamp}",
        "",
        f"- nginx, wrk and redis-server on core {cores.load}; `1w` and `2w-1core` on core "
        f"{cores.proxy}; `2w` not pinned (both cores)",
        f"- wrk: 1 thread, {opts.duration_s} s per run after {opts.warmup_s} s of warm-up; "
        f"{opts.rounds} rounds, the order of the targets rotating; recording "
        f"{'on' if recording else 'off'}",
        f"- {load_line(cells)}",
        "",
        targets_table(cells),
        "",
        ratios_table(cells),
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> Options:
    parser = round_options(__doc__.split("\n\n")[0], rounds=5, concurrency=(32,))
    parser.add_argument(
        "--only", choices=KINDS, default="json", help="answer kind (JSON: the cheapest load)"
    )
    parser.add_argument(
        "--recording", choices=("on", "off"), default="on", help="usage records (SQLite)"
    )
    args = parsed(parser, argv)
    return Options(
        duration_s=args.duration,
        warmup_s=args.warmup,
        rounds=args.rounds,
        connections=args.concurrency,
        kinds=(args.only,),
        recordings=(args.recording == "on",),
    )


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    problems = missing_tools()
    if redis_binary() is None:
        problems.append("redis-server is missing: apt-get install -y redis-server")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    return report_run("workers", lambda: run(opts))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
