"""Proxy overhead: requests/s and latency through 429chain versus a bare relay and nginx.

Run with `make bench` (or `.venv/bin/python bench/overhead.py --help`). nginx serves a fixed
JSON completion and a fixed SSE stream; wrk loads it directly, through the bare aiohttp relay
(bench/relay.py) and through one proxy process, in alternating rounds (direct, relay, proxy,
direct, relay, proxy, ...), for each stream kind and connection count. The relay and the proxy
are pinned to one core, nginx and wrk to the other. Prints a markdown table (ratios to the
relay with their min / median / max over the rounds), the proxy's RSS after the run, and
writes both to bench/results/overhead-<timestamp>.md. Exit 2 when a tool is missing, 1 when a
run fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from nginx import Nginx, nginx_binary, run_nginx
from overhead_table import Cell, ProxySummary, Round, cells_table, recording_table, summary_lines
from payloads import CLIENT_KEY, client_request
from probe import check_answer
from proxy_process import (
    KINDS,
    Proxy,
    Relay,
    cpu_seconds,
    memory_kib,
    recording_settings,
    run_proxy,
    run_relay,
    usage_rows,
)
from spawn import BenchError, tail
from wrk import WrkResult, run_wrk, write_script, wrk_binary

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
BUSY_LOAD = 0.5
NO_RECORDING_SWITCH = (
    "Note: settings has no switch to turn usage recording off yet, so `off` and `on` ran the "
    "same config (see `recording_settings` in bench/proxy_process.py)."
)
RECORDING_MODES = {"off": (False,), "on": (True,), "both": (False, True)}


@dataclass(frozen=True, slots=True)
class Options:
    duration_s: int
    warmup_s: int
    rounds: int
    connections: tuple[int, ...]
    kinds: tuple[str, ...]
    recordings: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class Cores:
    """Where the proxy runs, and where nginx and wrk run (None: not pinned)."""

    proxy: int | None
    load: int | None

    def describe(self) -> str:
        if self.proxy is None:
            return "not pinned (fewer than 2 usable cores: figures include contention)"
        return f"relay and proxy on core {self.proxy}; nginx and wrk on core {self.load}"


def _connections(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("connection counts must be positive integers")
    return values


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating direct/relay/proxy rounds per cell"
    )
    parser.add_argument(
        "--concurrency", type=_connections, default=(1, 32, 128), help="e.g. 1,32,128"
    )
    parser.add_argument("--only", choices=KINDS, help="measure only JSON or only SSE")
    parser.add_argument(
        "--recording",
        choices=sorted(RECORDING_MODES),
        default="on",
        help="usage recording in the proxy; `both` adds an on-vs-off comparison",
    )
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--duration and --rounds must be >= 1 and --warmup >= 0")
    return Options(
        duration_s=args.duration,
        warmup_s=args.warmup,
        rounds=args.rounds,
        connections=args.concurrency,
        kinds=(args.only,) if args.only else KINDS,
        recordings=RECORDING_MODES[args.recording],
    )


def missing_tools() -> list[str]:
    problems = []
    if nginx_binary() is None:
        problems.append("nginx is missing: apt-get install -y nginx")
    if wrk_binary() is None:
        problems.append("wrk is missing: apt-get install -y wrk")
    if shutil.which("taskset") is None:
        problems.append("taskset is missing: apt-get install -y util-linux")
    return problems


def pick_cores() -> Cores:
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        return Cores(proxy=None, load=None)
    return Cores(proxy=usable[0], load=usable[1])


@dataclass(frozen=True, slots=True)
class Measurement:
    result: WrkResult
    completed: int  # requests completed in all, warm-up included
    cpu_s: float  # CPU time `pid` used during the measured run (0 without a pid)


def measure(
    url: str, script: Path, connections: int, opts: Options, cores: Cores, pid: int | None = None
) -> Measurement:
    """A warm-up run, then the measured run; fail when any request of either went wrong."""
    runs = [opts.warmup_s, opts.duration_s] if opts.warmup_s else [opts.duration_s]
    completed, cpu_s = 0, 0.0
    for duration in runs:
        before = cpu_seconds(pid) if pid else 0.0
        result = run_wrk(url, script, connections=connections, duration_s=duration, cpu=cores.load)
        cpu_s = cpu_seconds(pid) - before if pid else 0.0
        completed += result.requests
        if result.errors or not result.requests:
            raise BenchError(
                f"{url} with {connections} connections: {result.requests} requests, errors "
                f"({result.error_summary()}); the figures would be meaningless"
            )
    return Measurement(result, completed, cpu_s)


def measure_cells(
    nginx: Nginx,
    relay: Relay,
    proxy: Proxy,
    scripts: dict[str, Path],
    opts: Options,
    cores: Cores,
    on: bool,
) -> list[Cell]:
    cells = []
    for kind in opts.kinds:
        for connections in opts.connections:
            rounds, completed = [], 0
            for index in range(opts.rounds):
                direct = measure(nginx.chat_url(kind), scripts[kind], connections, opts, cores)
                relayed = measure(
                    relay.chat_url(kind), scripts[kind], connections, opts, cores, relay.pid
                )
                proxied = measure(proxy.url, scripts[kind], connections, opts, cores, proxy.pid)
                completed += proxied.completed
                this = Round(
                    direct.result, relayed.result, proxied.result, relayed.cpu_s, proxied.cpu_s
                )
                rounds.append(this)
                print(
                    f"  {kind:4} c={connections:<4} round {index + 1}: direct "
                    f"{this.direct.rps:>8,.0f}  relay {this.relay.rps:>8,.0f}  429chain "
                    f"{this.proxy.rps:>8,.0f} req/s   429chain/relay {this.proxy_per_relay:.3f}",
                    file=sys.stderr,
                    flush=True,
                )
            cells.append(Cell(kind, connections, on, tuple(rounds), completed))
    return cells


def run_recording_mode(
    root: Path, nginx: Nginx, scripts: dict[str, Path], opts: Options, cores: Cores, on: bool
) -> tuple[list[Cell], ProxySummary]:
    mode_root = root / f"proxy-recording-{'on' if on else 'off'}"
    print(f"proxy with recording {'on' if on else 'off'}:", file=sys.stderr, flush=True)
    with (
        run_relay(mode_root, nginx, cores.proxy) as relay,
        run_proxy(mode_root, nginx, cores.proxy, recording=on) as proxy,
    ):
        for kind in opts.kinds:
            check_answer(nginx.chat_url(kind), kind)
            check_answer(relay.chat_url(kind), kind)
            headers = check_answer(proxy.url, kind)
            if headers.get("x-429chain-provider", "").partition("/")[0] != f"nginx-{kind}":
                raise BenchError(f"the proxy did not serve {kind} from nginx-{kind}: {headers}")
        try:
            cells = measure_cells(nginx, relay, proxy, scripts, opts, cores, on)
        except BenchError as exc:
            raise BenchError(
                f"{exc}\nproxy log:\n{tail(mode_root / 'proxy.log')}\n"
                f"relay log:\n{tail(mode_root / 'relay.log')}"
            ) from exc
        memory = memory_kib(proxy.pid)
        relay_memory = memory_kib(relay.pid)
    completed = len(opts.kinds) + sum(c.proxy_completed for c in cells)
    return cells, ProxySummary(
        recording=on,
        rss_kib=memory.get("VmRSS", 0),
        peak_kib=memory.get("VmHWM", 0),
        completed=completed,
        usage_rows=usage_rows(proxy.db_path),
        relay_rss_kib=relay_memory.get("VmRSS", 0),
        relay_peak_kib=relay_memory.get("VmHWM", 0),
    )


def _version(command: Sequence[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return "?"
    return (done.stdout + done.stderr).strip().splitlines()[0] if done.stdout + done.stderr else "?"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "?"


def _load_note(load: float) -> str:
    busy = " (other processes were busy: expect noise)" if load > BUSY_LOAD else ""
    return f"1-minute load average before the run: {load:.2f}{busy}"


def render(
    cells: list[Cell], summaries: list[ProxySummary], opts: Options, cores: Cores, load: float
) -> str:
    commit = _version(["git", "-C", str(BENCH_DIR), "rev-parse", "--short", "HEAD"])
    lines = [
        f"# 429chain proxy overhead, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
        "",
        f"- commit {commit}; Python {platform.python_version()}; {_version(['nginx', '-v'])}; "
        f"{_version(['wrk', '--version'])}",
        f"- CPU: {_cpu_model()}; {cores.describe()}; {_load_note(load)}",
        f"- wrk: 1 thread, {opts.duration_s} s per run after {opts.warmup_s} s of warm-up; "
        f"{opts.rounds} alternating rounds (direct, relay, 429chain) per row; req/s, latency "
        "and CPU are medians over the rounds; 429chain/relay is min / median / max of the "
        "per-round ratios; added p50/p99 = 429chain minus relay in the same round (ms); CPU = "
        "user+system time of the process per request",
        "- relay: bench/relay.py, a bare aiohttp server + ClientSession on uvloop (no auth, "
        "limits, records, logging or GC tuning), pinned like the proxy",
        "",
        cells_table(cells, show_recording=len(opts.recordings) > 1),
        "",
        summary_lines(summaries),
    ]
    if len(opts.recordings) > 1:
        lines += ["", "Recording on versus off (proxy figures):", "", recording_table(cells)]
        if recording_settings(True) == recording_settings(False):
            lines += ["", NO_RECORDING_SWITCH]
    return "\n".join(lines) + "\n"


def run(opts: Options) -> str:
    cores = pick_cores()
    load = os.getloadavg()[0]
    cells: list[Cell] = []
    summaries: list[ProxySummary] = []
    with tempfile.TemporaryDirectory(prefix="429chain-bench-") as tmp:
        root = Path(tmp)
        scripts = {
            kind: write_script(
                root / f"{kind}.lua", client_request(kind, stream=kind == "sse"), CLIENT_KEY
            )
            for kind in opts.kinds
        }
        with run_nginx(root / "nginx", cores.load) as nginx:
            for on in opts.recordings:
                mode_cells, summary = run_recording_mode(root, nginx, scripts, opts, cores, on)
                cells += mode_cells
                summaries.append(summary)
    return render(cells, summaries, opts, cores, load)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    if problems := missing_tools():
        print("\n".join(problems), file=sys.stderr)
        return 2
    return report_run("overhead", lambda: run(opts))


def report_run(name: str, produce: Callable[[], str]) -> int:
    """A benchmark's run as a command: SIGTERM stops it as Ctrl-C does, a failure is one line
    and exit 1, and the report is printed and kept (`save_report`)."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        report = produce()
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; every process the benchmark started has been stopped", file=sys.stderr)
        return 130
    print(report)
    save_report(name, report)
    return 0


def save_report(name: str, report: str) -> None:
    """Keep `report` as bench/results/<name>-<UTC timestamp>.md, and say where."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.md"
    path.write_text(report, encoding="utf-8")
    print(f"written to {path.relative_to(BENCH_DIR.parent)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
