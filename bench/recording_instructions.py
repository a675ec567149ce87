"""What usage recording costs, counted in instructions: the recording bench's proxy under callgrind.

Requests/s and CPU time on a shared machine move by several percent between runs; instruction
counts barely move. This runs the proxy of `recording_cost.py` (same app, same switch) under
valgrind's callgrind with `--separate-threads=yes`, and around each measured wrk turn zeroes
the counters and dumps them with `callgrind_control`, so every turn yields the event loop's and
the other threads' (the usage writer's) instructions per request. Everything recording does
runs in the proxy's process (the writer is a thread), so these counts are its whole cost.
An "on" turn ends with a flush inside the measured window, so every record of the turn is
handed over and counted in it;
the writer's interval is stretched (`--writer-interval`) so that, slowed down fifty-fold by
valgrind, its batches still hold about as many records as at full speed. Few connections
(`--connections`, default 4) keep the requests still in flight when a turn ends, counted in
the instructions but not in wrk's total, to a fraction of a percent.
Run it with `make bench-recording-instructions`. Exit 2 when a tool is missing, 1 when a run
fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from nginx import nginx_binary, run_nginx
from overhead import pick_cores
from payloads import CLIENT_KEY, client_request
from recording_cost import Rig, print_rows, serve, turn_order
from spawn import BenchError
from wrk import run_wrk_async, write_script, wrk_binary

CHILD_FLAG = "--under-callgrind"
#: Seconds of load before each measured turn: the settling run of `recording_cost.py`,
#: stretched for valgrind's slowdown so the writer is again in its rhythm.
SETTLE_UNDER_VALGRIND_S = 10
DUMP_NAME = "callgrind.out"


def callgrind_command(directory: Path) -> list[str]:
    """valgrind's callgrind, counting each thread apart, its dumps in `directory`."""
    return [
        "valgrind",
        "--quiet",
        "--tool=callgrind",
        "--separate-threads=yes",
        f"--callgrind-out-file={directory / DUMP_NAME}",
    ]


@dataclass(frozen=True, slots=True)
class Counts:
    requests: int
    loop: float  # instructions per request in the event loop's thread
    others: float  # in every other thread: the usage writer when recording

    @property
    def total(self) -> float:
        return self.loop + self.others


@dataclass(frozen=True, slots=True)
class Options:
    kinds: tuple[str, ...]
    rounds: int
    seconds: int
    connections: int
    writer_interval: float


class Dumps:
    """Reads the per-thread files callgrind writes for each `callgrind_control -d`.

    `pid` is the process under callgrind (this one by default); `directory` holds its
    `--callgrind-out-file={directory}/callgrind.out` and nothing else's.
    """

    def __init__(self, directory: Path, pid: int | None = None) -> None:
        self._directory = directory
        self._pid = os.getpid() if pid is None else pid
        self._taken = 0

    async def zero(self) -> None:
        await _control("-z", self._pid)

    async def take(self) -> tuple[int, int]:
        """Dump now; the instructions of the main thread and of all others since `zero`."""
        await _control("-d", self._pid)
        self._taken += 1
        files = sorted(self._directory.glob(f"{DUMP_NAME}.{self._taken}-*"))
        if not files:
            raise BenchError(f"callgrind wrote no dump {self._taken} in {self._directory}")
        counts = [_total(path) for path in files]
        return counts[0], sum(counts[1:])


async def _control(flag: str, pid: int) -> None:
    process = await asyncio.create_subprocess_exec(
        "callgrind_control",
        flag,
        str(pid),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise BenchError(f"callgrind_control {flag} failed: {output.decode(errors='replace')}")


def _total(path: Path) -> int:
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise BenchError(f"no totals in {path}")


async def measured_turn(
    rig: Rig, script: Path, opts: Options, dumps: Dumps, cpu: int | None, *, on: bool
) -> Counts:
    rig.switch.on = on
    await rig.writer.flush()
    await run_wrk_async(
        rig.url(), script, connections=opts.connections, duration_s=SETTLE_UNDER_VALGRIND_S, cpu=cpu
    )
    await dumps.zero()
    result = await run_wrk_async(
        rig.url(), script, connections=opts.connections, duration_s=opts.seconds, cpu=cpu
    )
    await rig.writer.flush()  # this turn's records are written inside its window
    loop, others = await dumps.take()
    if result.errors or not result.requests:
        raise BenchError(f"{result.requests} requests, {result.error_summary()}")
    return Counts(result.requests, loop / result.requests, others / result.requests)


async def run_child(opts: Options, root: Path, log_file: TextIO) -> list[str]:
    cores = pick_cores()
    if cores.proxy is not None:
        os.sched_setaffinity(0, {cores.proxy})
    rows = list(HEADER)
    dumps = Dumps(root)
    with run_nginx(root / "nginx", cores.load) as nginx:
        async with serve(root, nginx, log_file, writer_interval=opts.writer_interval) as rig:
            for kind in opts.kinds:
                body = client_request(kind, stream=kind == "sse")
                script = write_script(root / f"{kind}.lua", body, CLIENT_KEY)
                turns: list[tuple[Counts, Counts]] = []
                for index in range(opts.rounds):
                    got = {
                        on: await measured_turn(rig, script, opts, dumps, cores.load, on=on)
                        for on in turn_order(index)
                    }
                    turns.append((got[False], got[True]))
                    print(f"  {kind} round {index + 1}: {_cost(*turns[-1]):+.2%}", file=sys.stderr)
                rows.append(_row(kind, opts, turns))
    return rows


def _cost(off: Counts, on: Counts) -> float:
    return (on.total - off.total) / off.total


def _row(kind: str, opts: Options, turns: list[tuple[Counts, Counts]]) -> str:
    median = statistics.median
    per_round = ", ".join(f"{_cost(off, on):+.2%}" for off, on in turns)
    return (
        f"| {kind} | {opts.connections} | "
        f"{sum(o.requests for o, _ in turns):,} / {sum(o.requests for _, o in turns):,} | "
        f"{median([o.loop for o, _ in turns]):,.0f} | {median([o.loop for _, o in turns]):,.0f} | "
        f"{median([o.others for _, o in turns]):,.0f} | "
        f"**{median([_cost(off, on) for off, on in turns]):+.2%}** | {per_round} |"
    )


HEADER = (
    "| stream | conns | requests off / on | loop instr/req off | loop instr/req on | "
    "writer instr/req | cost of recording | per round |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
)


def _parse(argv: Sequence[str]) -> tuple[Options, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="off/on turn pairs per stream")
    parser.add_argument("--seconds", type=int, default=40, help="measured seconds per turn")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--writer-interval", type=float, default=20.0)
    parser.add_argument("--only", choices=("json", "sse"))
    parser.add_argument(CHILD_FLAG, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.rounds, args.seconds, args.connections) < 1 or args.writer_interval <= 0:
        parser.error("--rounds, --seconds, --connections and --writer-interval must be positive")
    kinds = (args.only,) if args.only else ("json", "sse")
    opts = Options(kinds, args.rounds, args.seconds, args.connections, args.writer_interval)
    return opts, bool(args.under_callgrind)


def main(argv: Sequence[str]) -> int:
    opts, is_child = _parse(argv)
    return run_counted(
        argv,
        is_child,
        __file__,
        "429chain-instructions-",
        lambda root, log_file: run_child(opts, root, log_file),
    )


def run_counted(
    argv: Sequence[str],
    is_child: bool,
    script: str,
    prefix: str,
    child: Callable[[Path, TextIO], Coroutine[Any, Any, list[str]]],
) -> int:
    """The `main` of a benchmark that counts itself under callgrind: as the child (`CHILD_FLAG`
    given), `child` measures with its dumps in the directory callgrind writes to and its rows
    are printed; otherwise `script` is run again under callgrind with `argv` and the flag, and
    what it printed is printed."""
    missing = [t for t in ("valgrind", "callgrind_control") if shutil.which(t) is None]
    if nginx_binary() is None or wrk_binary() is None or missing:
        print(
            "needs nginx, wrk and valgrind: apt-get install -y nginx wrk valgrind", file=sys.stderr
        )
        return 2
    if is_child:
        root = Path(os.environ["CHAIN429_CALLGRIND_DIR"])
        return print_rows(root, lambda log_file: child(root, log_file))
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        command = [*callgrind_command(Path(tmp)), sys.executable, script, *argv, CHILD_FLAG]
        environ = {**os.environ, "CHAIN429_CALLGRIND_DIR": tmp}
        done = subprocess.run(command, env=environ, stdout=subprocess.PIPE, text=True, check=False)
        print(done.stdout, end="")
        return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
