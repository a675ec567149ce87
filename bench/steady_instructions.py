"""The event loop's instructions per request with the proxy's timers held still: one commit's
figure against another's to within a couple of thousand instructions, however busy the machine.

`make bench-instructions` counts what `429chain serve` spends while wrk loads it, timers
included. Two of the event loop's timers run on the clock, not per request: the request lines
are flushed 50 ms after the first one waiting, and the usage writer takes its queue once a
second. On a busy machine the proxy under valgrind answers three times fewer requests in one
turn than in another, and each request then carries a different share of those timers: the
same commit has counted 961,000 and 996,000 instructions per JSON request. Here the proxy is
served in this process (`recording_cost.serve`: the app as `serve` builds it, recording on)
with those two timers held: the request lines are flushed every `RequestLines.FLUSH_LINES`
lines only, and the usage writer writes only when the turn ends (`flush`, counted in the
turn). What is left per request does not depend on the rate, so the count is the same in a slow
turn and in a fast one (within about 0.2%). Per answer kind: `--warmup` seconds of wrk at one
connection, counters zeroed, `--seconds` measured, the writer flushed, counters dumped.
Run it with `make bench-instructions-steady`; exit 2 when a tool is missing, 1 when a run fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from chain429.usage.request_line import RequestLines
from nginx import nginx_binary, run_nginx
from overhead import pick_cores
from payloads import CLIENT_KEY, client_request
from proxy_process import KINDS
from recording_cost import print_rows, serve
from recording_instructions import Dumps, callgrind_command
from spawn import BenchError
from wrk import run_wrk_async, write_script, wrk_binary

CHILD_FLAG = "--under-callgrind"
#: Long enough that no flush of the request lines nor write of the usage writer happens on its
#: timer during a run: they happen by count and at the end of each turn.
NEVER_S = 1e9


@dataclass(frozen=True, slots=True)
class Options:
    kinds: tuple[str, ...]
    seconds: int
    warmup: int


@dataclass(frozen=True, slots=True)
class Turn:
    kind: str
    requests: int
    loop: int  # instructions of the event loop's thread in the turn
    others: int  # of every other thread: the usage writer


def table(turns: Sequence[Turn]) -> list[str]:
    """Markdown rows: instructions per request of each turn, loop and other threads."""
    rows = [
        "| stream | requests | event loop instr/req | other threads instr/req |",
        "| --- | ---: | ---: | ---: |",
    ]
    for turn in turns:
        if turn.requests <= 0:
            raise BenchError(f"{turn.kind}: no request completed in the turn")
        rows.append(
            f"| {turn.kind} | {turn.requests:,} | {turn.loop / turn.requests:,.0f} | "
            f"{turn.others / turn.requests:,.0f} |"
        )
    return rows


async def run_child(opts: Options, root: Path, log_file: TextIO) -> list[str]:
    RequestLines.FLUSH_S = NEVER_S  # type: ignore[misc]  # held still: flushed by count only
    cores = pick_cores()
    if cores.proxy is not None:
        os.sched_setaffinity(0, {cores.proxy})
    dumps = Dumps(root)
    turns: list[Turn] = []
    with run_nginx(root / "nginx", cores.load) as nginx:
        async with serve(root, nginx, log_file, writer_interval=NEVER_S) as rig:
            rig.switch.on = True
            for kind in opts.kinds:
                body = client_request(kind, stream=kind == "sse")
                script = write_script(root / f"{kind}.lua", body, CLIENT_KEY)
                await run_wrk_async(
                    rig.url(), script, connections=1, duration_s=opts.warmup, cpu=cores.load
                )
                await rig.writer.flush()
                await dumps.zero()
                result = await run_wrk_async(
                    rig.url(), script, connections=1, duration_s=opts.seconds, cpu=cores.load
                )
                await rig.writer.flush()  # the turn's records are written inside it
                loop, others = await dumps.take()
                if result.errors:
                    raise BenchError(f"{kind}: {result.error_summary()}")
                turns.append(Turn(kind, result.requests, loop, others))
    return table(turns)


def _parse(argv: Sequence[str]) -> tuple[Options, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per kind")
    parser.add_argument("--warmup", type=int, default=8, help="seconds of load before each")
    parser.add_argument("--only", choices=KINDS)
    parser.add_argument(CHILD_FLAG, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.seconds, args.warmup) < 1:
        parser.error("--seconds and --warmup must be positive")
    kinds = (args.only,) if args.only else KINDS
    return Options(kinds, args.seconds, args.warmup), bool(args.under_callgrind)


def main(argv: Sequence[str]) -> int:
    opts, is_child = _parse(argv)
    missing = [t for t in ("valgrind", "callgrind_control") if shutil.which(t) is None]
    if nginx_binary() is None or wrk_binary() is None or missing:
        print(
            "needs nginx, wrk and valgrind: apt-get install -y nginx wrk valgrind", file=sys.stderr
        )
        return 2
    if is_child:
        root = Path(os.environ["CHAIN429_CALLGRIND_DIR"])
        return print_rows(root, lambda log_file: run_child(opts, root, log_file))
    with tempfile.TemporaryDirectory(prefix="429chain-steady-") as tmp:
        command = [*callgrind_command(Path(tmp)), sys.executable, __file__, *argv, CHILD_FLAG]
        environ = {**os.environ, "CHAIN429_CALLGRIND_DIR": tmp}
        done = subprocess.run(command, env=environ, stdout=subprocess.PIPE, text=True, check=False)
        print(done.stdout, end="")
        return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
