"""Time to first token: a slowly streaming upstream, directly, through the relay and 429chain.

Run with `make bench-ttft` (or `.venv/bin/python bench/ttft.py --help`). The slow upstream
(bench/slow_upstream.py) sends the role chunk and the first word `--first-ms` after a request,
then a word every `--interval-ms`. One client (bench/ttft_client.py, a blocking socket per
target, keep-alive) sends one streaming request at a time, the targets taking turns request by
request, and notes when the headers, the first content token and the end arrived. The relay
and the proxy are pinned to one core, the upstream and the client to the other, as in
`make bench`. Prints a markdown table and writes it to bench/results/ttft-<timestamp>.md.
Exit 2 when taskset is missing, 1 when a run fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from overhead import BUSY_LOAD, Cores, pick_cores, report_run
from payloads import client_request
from probe import check_answer
from proxy_process import run_proxy, run_relay
from slow_upstream import Pace, run_slow_upstream
from spawn import BenchError, tail
from ttft_client import Connection, StreamError, Timing, request_bytes
from ttft_table import TARGETS, TtftRound, ttft_table

BENCH_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Options:
    requests: int  # per target per round
    rounds: int
    warmup: int  # requests per target before the first round
    pace: Pace
    recording: bool


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=60, help="per target per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (spreads are over these)")
    parser.add_argument("--warmup", type=int, default=5, help="requests per target, not counted")
    parser.add_argument("--first-ms", type=float, default=50.0, help="upstream's first token")
    parser.add_argument("--interval-ms", type=float, default=20.0, help="between later tokens")
    parser.add_argument("--recording", choices=("on", "off"), default="on")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--requests and --rounds must be >= 1 and --warmup >= 0")
    if args.first_ms < 0 or args.interval_ms < 0:
        parser.error("--first-ms and --interval-ms must be >= 0")
    return Options(
        requests=args.requests,
        rounds=args.rounds,
        warmup=args.warmup,
        pace=Pace(args.first_ms / 1000, args.interval_ms / 1000),
        recording=args.recording == "on",
    )


def measure(
    connections: dict[str, Connection], requests: dict[str, bytes], opts: Options
) -> list[TtftRound]:
    for target in TARGETS:
        for _ in range(opts.warmup):
            connections[target].timed(requests[target])
    rounds = []
    for index in range(opts.rounds):
        timings: dict[str, list[Timing]] = {target: [] for target in TARGETS}
        for n in range(opts.requests):
            turn = n % len(TARGETS)  # who goes first rotates: no target always follows another
            for target in TARGETS[turn:] + TARGETS[:turn]:
                timings[target].append(connections[target].timed(requests[target]))
        this = TtftRound(timings)
        rounds.append(this)
        print(
            f"  round {index + 1}: TTFT p50 direct {this.p50_ms('direct'):.2f} ms, relay "
            f"{this.p50_ms('relay'):.2f} ms, 429chain {this.p50_ms('429chain'):.2f} ms",
            file=sys.stderr,
            flush=True,
        )
    return rounds


def run(opts: Options, cores: Cores) -> list[TtftRound]:
    with tempfile.TemporaryDirectory(prefix="429chain-ttft-") as tmp:
        root = Path(tmp)
        with (
            run_slow_upstream(root / "upstream", cores.load, opts.pace) as upstream,
            run_relay(root, upstream, cores.proxy) as relay,
            run_proxy(root, upstream, cores.proxy, recording=opts.recording) as proxy,
        ):
            urls = {
                "direct": upstream.chat_url("sse"),
                "relay": relay.chat_url("sse"),
                "429chain": proxy.url,
            }
            for target, url in urls.items():
                headers = check_answer(url, "sse")
                if target == "429chain" and not headers.get("x-429chain-provider", "").startswith(
                    "nginx-sse/"
                ):
                    raise BenchError(f"the proxy did not serve from the slow upstream: {headers}")
            body = client_request("sse", stream=True)
            requests = {target: request_bytes(url, body) for target, url in urls.items()}
            connections = {target: Connection(url) for target, url in urls.items()}
            if cores.load is not None:
                os.sched_setaffinity(0, {cores.load})  # the client beside the upstream
            try:
                return measure(connections, requests, opts)
            except (StreamError, OSError) as exc:
                raise BenchError(f"{exc}\nproxy log:\n{tail(root / 'proxy.log')}") from exc
            finally:
                for connection in connections.values():
                    connection.close()


def render(rounds: list[TtftRound], opts: Options, cores: Cores, load: float) -> str:
    commit = subprocess.run(
        ["git", "-C", str(BENCH_DIR), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    busy = " (other processes were busy: expect noise)" if load > BUSY_LOAD else ""
    first_ms, interval_ms = opts.pace.first_s * 1000, opts.pace.interval_s * 1000
    lines = [
        "# 429chain time to first token, " + time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "",
        f"- commit {commit or '?'}; Python {platform.python_version()}; {cores.describe()} "
        "(the client and the slow upstream on the load core); 1-minute load average before the "
        f"run: {load:.2f}{busy}",
        f"- upstream: first token {first_ms:g} ms after the request, then one every "
        f"{interval_ms:g} ms (11 writes); recording {'on' if opts.recording else 'off'}",
        f"- {opts.rounds} rounds of {opts.requests} streaming requests per target, one at a time, "
        f"the targets taking turns; {opts.warmup} warm-up requests per target",
        "- ms from sending the request; TTFT = first content token; p50/p99 pool every round; "
        "min / med / max are over the rounds' medians; added = the target's median minus "
        "direct's (or the relay's) in the same round",
        "",
        ttft_table(rounds),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    if shutil.which("taskset") is None:
        print("taskset is missing: apt-get install -y util-linux", file=sys.stderr)
        return 2
    cores = pick_cores()
    load = os.getloadavg()[0]
    return report_run("ttft", lambda: render(run(opts, cores), opts, cores, load))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
