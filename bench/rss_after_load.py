"""The proxy's resident memory after start and after a fixed load: the figure each memory cut
of issue 14 is measured with (target: under 80 MiB after load).

Run with `make bench-rss` (or `.venv/bin/python bench/rss_after_load.py --help`). nginx and
the proxy start as `make bench` starts them (recording on, the proxy pinned to its core). The
proxy is started twice on the same usage database: the first start creates and migrates it,
the second is what every later start of a long-running proxy looks like. Each time the script
reads the proxy's VmRSS once it answers and has idled `--settle` seconds; after the second, it
runs wrk for `--seconds` against each answer kind at each connection count, and reads VmRSS
and VmHWM again. Exit 2 when a tool is missing, 1 when a run fails (any wrk error counts).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nginx import run_nginx
from overhead import missing_tools, pick_cores
from payloads import CLIENT_KEY, client_request
from proxy_process import KINDS, memory_kib, run_proxy
from spawn import BenchError
from wrk import run_wrk, write_script


@dataclass(frozen=True, slots=True)
class Options:
    seconds: int
    settle_s: float
    connections: tuple[int, ...]


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk seconds per kind and count")
    parser.add_argument("--settle", type=float, default=2.0, help="idle seconds after start")
    parser.add_argument("--connections", default="32,128", help="wrk connection counts")
    args = parser.parse_args(argv)
    counts = tuple(int(c) for c in args.connections.split(","))
    return Options(seconds=args.seconds, settle_s=args.settle, connections=counts)


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def run(opts: Options) -> str:
    cores = pick_cores()
    with tempfile.TemporaryDirectory(prefix="429chain-rss-") as tmp:
        root = Path(tmp)
        scripts = {
            kind: write_script(
                root / f"{kind}.lua", client_request(kind, stream=kind == "sse"), CLIENT_KEY
            )
            for kind in KINDS
        }
        with run_nginx(root / "nginx", cores.load) as nginx:
            with run_proxy(root / "proxy", nginx, cores.proxy, recording=True) as proxy:
                time.sleep(opts.settle_s)
                first_start = memory_kib(proxy.pid)["VmRSS"]
            with run_proxy(root / "proxy", nginx, cores.proxy, recording=True) as proxy:
                time.sleep(opts.settle_s)
                started = memory_kib(proxy.pid)["VmRSS"]
                requests = 0
                for connections in opts.connections:
                    for kind in KINDS:
                        result = run_wrk(
                            proxy.url,
                            scripts[kind],
                            connections=connections,
                            duration_s=opts.seconds,
                            cpu=cores.load,
                        )
                        if result.errors:
                            raise BenchError(f"{kind} x {connections}: {result.error_summary()}")
                        requests += result.requests
                loaded = memory_kib(proxy.pid)
    return (
        f"proxy RSS after the first start (new database): {mib(first_start)}; "
        f"after a restart: {mib(started)}; after {requests:,} requests: "
        f"{mib(loaded['VmRSS'])} (peak {mib(loaded['VmHWM'])})"
    )


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    if problems := missing_tools():
        print("\n".join(problems), file=sys.stderr)
        return 2
    try:
        print(run(opts))
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
