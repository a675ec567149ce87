"""The event loop's instructions per request, whatever the rate: one commit's figure against
another's, however busy the machine.

`make bench-instructions` divides what `429chain serve` spent in a turn by the requests it
answered. Part of that is not per request: the turn's own start and end (wrk started and read
from the event loop of the process under test in `recording_instructions.py`, the usage
writer's flush, `callgrind_control`), and timers that run on the clock (the request lines are
flushed 50 ms after the first one waiting, the usage writer takes its queue once a second, the
limit state is saved every 30 s). On a busy machine the proxy under valgrind answers three
times fewer requests in one turn than in another, so each request carries a different share
of it: the same commit counted 959,748 and 981,361 instructions per JSON request in turns of
294 and 105 requests. Here the proxy is served in this process (`recording_cost.serve`: the
app as `serve` builds it, recording on) with those timers held (request lines flushed by count
only, every `RequestLines.FLUSH_LINES`; the usage writer writing when a turn ends, inside it;
no limit state saved), and each answer kind is measured in two turns, `--seconds` / 4 and
`--seconds` long, after `--warmup` seconds of load: the instructions per request are the
difference of their instructions over the difference of their requests, so whatever a turn
costs once cancels out. One connection throughout.
Run it with `make bench-instructions-steady`; exit 2 when a tool is missing, 1 when a run fails.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import chain429.app
from chain429.usage.request_line import RequestLines
from nginx import run_nginx
from overhead import pick_cores
from payloads import CLIENT_KEY, client_request
from proxy_process import KINDS
from recording_cost import Rig, serve
from recording_instructions import Dumps, run_counted
from spawn import BenchError
from wrk import run_wrk_async, write_script

CHILD_FLAG = "--under-callgrind"
#: Long enough that none of the held timers (request lines, usage writer, limit state) fires
#: during a run.
NEVER_S = 1e9


@dataclass(frozen=True, slots=True)
class Options:
    kinds: tuple[str, ...]
    seconds: int
    warmup: int


@dataclass(frozen=True, slots=True)
class Turn:
    requests: int
    loop: int  # instructions of the event loop's thread in the turn
    others: int  # of every other thread: the usage writer


def table(pairs: Sequence[tuple[str, Turn, Turn]]) -> list[str]:
    """Markdown rows, one per answer kind measured by a short and a long turn: instructions per
    request from the two turns' differences, then each turn's own quotient."""
    rows = [
        "| stream | requests short / long | event loop instr/req | other threads instr/req "
        "| per turn, event loop (short, long) |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for kind, short, long in pairs:
        extra = long.requests - short.requests
        if short.requests <= 0 or extra <= 0:
            raise BenchError(
                f"{kind}: {short.requests} and {long.requests} requests: the long turn must "
                "answer more (raise --seconds)"
            )
        loop, others = (long.loop - short.loop) / extra, (long.others - short.others) / extra
        rows.append(
            f"| {kind} | {short.requests:,} / {long.requests:,} | {loop:,.0f} | {others:,.0f} | "
            f"{short.loop / short.requests:,.0f}, {long.loop / long.requests:,.0f} |"
        )
    return rows


async def _turn(rig: Rig, script: Path, seconds: int, dumps: Dumps, cpu: int | None) -> Turn:
    await rig.writer.flush()
    await dumps.zero()
    result = await run_wrk_async(rig.url(), script, connections=1, duration_s=seconds, cpu=cpu)
    await rig.writer.flush()  # the turn's records are written inside it
    loop, others = await dumps.take()
    if result.errors:
        raise BenchError(result.error_summary())
    return Turn(result.requests, loop, others)


async def run_child(opts: Options, root: Path, log_file: TextIO) -> list[str]:
    RequestLines.FLUSH_S = NEVER_S  # type: ignore[misc]  # held still: flushed by count only
    chain429.app.SNAPSHOT_INTERVAL_S = NEVER_S  # no limit state saved during the run
    cores = pick_cores()
    if cores.proxy is not None:
        os.sched_setaffinity(0, {cores.proxy})
    dumps = Dumps(root)
    pairs: list[tuple[str, Turn, Turn]] = []
    with run_nginx(root / "nginx", cores.load) as nginx:
        async with serve(root, nginx, log_file, writer_interval=NEVER_S) as rig:
            rig.switch.on = True
            for kind in opts.kinds:
                body = client_request(kind, stream=kind == "sse")
                script = write_script(root / f"{kind}.lua", body, CLIENT_KEY)
                await run_wrk_async(
                    rig.url(), script, connections=1, duration_s=opts.warmup, cpu=cores.load
                )
                short = await _turn(rig, script, max(1, opts.seconds // 4), dumps, cores.load)
                long = await _turn(rig, script, opts.seconds, dumps, cores.load)
                pairs.append((kind, short, long))
    return table(pairs)


def _parse(argv: Sequence[str]) -> tuple[Options, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="the long turn's seconds")
    parser.add_argument("--warmup", type=int, default=8, help="seconds of load before each")
    parser.add_argument("--only", choices=KINDS)
    parser.add_argument(CHILD_FLAG, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seconds < 4 or args.warmup < 1:
        parser.error("--seconds must be at least 4, --warmup positive")
    kinds = (args.only,) if args.only else KINDS
    return Options(kinds, args.seconds, args.warmup), bool(args.under_callgrind)


def main(argv: Sequence[str]) -> int:
    opts, is_child = _parse(argv)
    return run_counted(
        argv, is_child, __file__, "429chain-steady-", lambda root, log: run_child(opts, root, log)
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
