"""What usage recording costs: two proxies, recording off and on, measured in turns.

One run on a shared, noisy machine says little about a few percent, so this keeps both proxies
up (pinned to the same core; the idle one costs nothing) and alternates short wrk runs between
them, `--rounds` times, then compares the medians: requests/s and proxy CPU per request. Run it
with `make bench-recording`. Exit 2 when a tool is missing, 1 when a run fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nginx import nginx_binary, run_nginx
from overhead import pick_cores
from payloads import CLIENT_KEY, client_request
from proxy_process import Proxy, cpu_seconds, run_proxy
from spawn import BenchError
from wrk import run_wrk, write_script, wrk_binary


@dataclass(frozen=True, slots=True)
class Turn:
    rps: float
    cpu_us: float


def one_turn(proxy: Proxy, script: Path, connections: int, seconds: int, cpu: int | None) -> Turn:
    before = cpu_seconds(proxy.pid)
    result = run_wrk(proxy.url, script, connections=connections, duration_s=seconds, cpu=cpu)
    spent = cpu_seconds(proxy.pid) - before
    if result.errors or not result.requests:
        raise BenchError(f"{proxy.url}: {result.requests} requests, {result.error_summary()}")
    return Turn(result.rps, spent / result.requests * 1e6)


def compare(kind: str, rounds: int, connections: int, seconds: int) -> str:
    cores = pick_cores()
    with tempfile.TemporaryDirectory(prefix="429chain-recording-") as tmp:
        root = Path(tmp)
        script = write_script(
            root / f"{kind}.lua", client_request(kind, stream=kind == "sse"), CLIENT_KEY
        )
        with (
            run_nginx(root / "nginx", cores.load) as nginx,
            run_proxy(root / "off", nginx, cores.proxy, recording=False) as off,
            run_proxy(root / "on", nginx, cores.proxy, recording=True) as on,
        ):
            for proxy in (off, on):
                one_turn(proxy, script, connections, 1, cores.load)
            turns: dict[str, list[Turn]] = {"off": [], "on": []}
            for index in range(rounds):
                order = (("off", off), ("on", on)) if index % 2 == 0 else (("on", on), ("off", off))
                for name, proxy in order:
                    turns[name].append(one_turn(proxy, script, connections, seconds, cores.load))
    return _table(kind, connections, turns)


def _table(kind: str, connections: int, turns: dict[str, list[Turn]]) -> str:
    rps = {k: statistics.median(t.rps for t in v) for k, v in turns.items()}
    cpu = {k: statistics.median(t.cpu_us for t in v) for k, v in turns.items()}
    rounds = len(turns["off"])
    return (
        f"| {kind} | {connections} | {rounds} | {rps['off']:,.0f} | {rps['on']:,.0f} | "
        f"{rps['on'] / rps['off']:.3f} | {cpu['off']:.0f} | {cpu['on']:.0f} | "
        f"{(cpu['on'] - cpu['off']) / cpu['off'] * 100:+.1f}% |"
    )


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="turns per proxy (median taken)")
    parser.add_argument("--seconds", type=int, default=4, help="seconds per turn")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", choices=("json", "sse"))
    opts = parser.parse_args(argv)
    if nginx_binary() is None or wrk_binary() is None:
        print("needs nginx and wrk: apt-get install -y nginx wrk", file=sys.stderr)
        return 2
    kinds = (opts.only,) if opts.only else ("json", "sse")
    rows = [
        "| stream | conns | rounds | off req/s | on req/s | on/off | off CPU µs/req | "
        "on CPU µs/req | CPU cost of recording |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    try:
        for kind in kinds:
            rows.append(compare(kind, opts.rounds, opts.connections, opts.seconds))
            print(rows[-1], file=sys.stderr, flush=True)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
