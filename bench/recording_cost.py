"""What usage recording costs: one proxy, recording switched off and on between wrk turns.

A few percent is below what comparing two proxy processes can show here: two processes running
the same code and config differed by 4 to 15% in this harness (the one started second was
faster in every pair), through memory layout and placement alone. So this serves the proxy in
its own process (as `429chain serve` does: uvloop, the same app, the request log to a file,
the garbage collector tuned by `settle_heap`) with the one difference recording makes
behind a switch: records go to the batch writer (on) or nowhere (off), with metrics and the
request log kept in both. It alternates `--rounds` wrk turns between the two states, each after
a flush and a one-second settling run so the writer is in its steady rhythm, and reports the
median of the ratios of adjacent turns. `--control` keeps recording off in both: the figure
then shows how exact the instrument is. Run it with `make bench-recording`.

The proxy is pinned to one core and wrk and nginx to the other. The usage store's insert
worker (a child process) is placed with `--worker-core`: `load` (the default) puts it on the
load core, which wrk and nginx leave mostly idle at these rates, as a host with a spare core
would; `proxy` puts it on the proxy's own core, the single-core case.
Exit 2 when a tool is missing, 1 when a run fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import uvloop

from chain429.app import AppOptions, create_app
from chain429.clock import SystemClock
from chain429.config.load import validate_config
from chain429.logs import RequestLog, configure_logging
from chain429.outcome import Outcome
from chain429.router.request import Endpoint
from chain429.runner import settle_heap
from chain429.server import start_server
from chain429.usage.recording import Recording
from chain429.usage.records import AttemptRecord, RequestRecord
from chain429.usage.sink import RecordingSink
from chain429.usage.store import UsageStore
from chain429.usage.writer import WRITE_INTERVAL_S, BatchWriter
from nginx import Nginx, nginx_binary, run_nginx
from overhead import Cores, pick_cores
from payloads import CLIENT_KEY, client_request
from proxy_process import cpu_seconds, proxy_config, thread_cpu_seconds
from spawn import BenchError, free_port
from wrk import run_wrk_async, write_script, wrk_binary

SETTLE_S = 1


class Switch:
    """The one thing recording changes on the request path: whether records reach the writer."""

    def __init__(self, writer: BatchWriter) -> None:
        self._writer = writer
        self.on = False

    def submit(self, record: RequestRecord) -> None:
        if self.on:
            self._writer.submit(record)


@dataclass(frozen=True, slots=True)
class Rig:
    port: int
    switch: Switch
    writer: BatchWriter
    store: UsageStore

    def worker_cpu_seconds(self) -> float:
        """CPU time of the store's insert worker process so far."""
        pid = self.store.insert_worker_pid
        if pid is None:
            raise BenchError("the usage store's insert worker is not running")
        return cpu_seconds(pid)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/chat/completions"


@asynccontextmanager
async def serve(
    root: Path,
    upstream: Nginx,
    log_file: TextIO,
    *,
    writer_interval: float = WRITE_INTERVAL_S,
    worker_cpu: int | None = None,
) -> AsyncIterator[Rig]:
    """The proxy in this process, with its usage recording behind a `Switch`.

    The app itself is configured without recording; the bench's own `Recording` (the same
    store, writer, retention and metrics `serve` would build) receives the records while the
    switch is on. The store's insert worker is moved to core `worker_cpu` when one is given
    (it otherwise shares this process's cores). `log_file` must stay open until the event loop
    is gone: the request log flushes on a timer.
    """
    port = free_port()
    config = validate_config(proxy_config(upstream, port, root / "usage.db", recording=False))
    settings, secrets = config.settings, config.secrets()
    configure_logging(settings.log_level, "console", secrets, stream=log_file)
    recording = Recording(
        settings.model_copy(update={"record_usage": True}),
        SystemClock(),
        writer_interval=writer_interval,
    )
    if recording.writer is None or recording.store is None:
        raise BenchError("the bench's Recording built no writer")
    switch = Switch(recording.writer)
    request_log = RequestLog("console", settings.log_level, stream=log_file)
    sink = RecordingSink(switch, recording.metrics, request_log)
    app = create_app(config, AppOptions(sink=sink, request_log=request_log))
    await recording.start()
    worker = recording.store.insert_worker_pid
    if worker_cpu is not None and worker is not None:
        os.sched_setaffinity(worker, {worker_cpu})
    await warm_writer(recording.writer)
    server = await start_server(app, settings.host, port)
    settle_heap()
    try:
        yield Rig(port, switch, recording.writer, recording.store)
    finally:
        await server.stop()
        await recording.close()


#: 256 + 128 + ... + 1: one batch of this size uses every multi-row INSERT the writer has.
WARM_RECORDS = 511


async def warm_writer(writer: BatchWriter) -> None:
    """Write one batch that prepares every statement the writer uses, before any measurement.

    The driver keeps prepared statements, so a long-running proxy pays for each once; parsing a
    256-row INSERT costs about two million instructions, which a measured turn must not carry.
    """
    served = AttemptRecord(0, "warm-up", "warm-up", None, Outcome.SERVED, 200, 1.0, "")
    for index in range(WARM_RECORDS):
        writer.submit(
            RequestRecord(
                request_id=f"warm-up-{index}",
                started_at=0.0,
                endpoint=Endpoint.CHAT.value,
                chain="warm-up",
                requested_model="warm-up",
                provider_id="warm-up",
                model="warm-up",
                key_label=None,
                status=200,
                streamed=False,
                attempts=(served,),
                prompt_tokens=1,
                completion_tokens=1,
                total_tokens=2,
                latency_ms=1.0,
                ttft_ms=None,
                error_class=None,
                client_closed=False,
            )
        )
    await writer.flush()
    if writer.written != WARM_RECORDS:
        raise BenchError(f"warm-up: {writer.written} of {WARM_RECORDS} records written")


@dataclass(frozen=True, slots=True)
class Turn:
    rps: float
    loop_us: float  # the event loop's CPU per request
    others_us: float  # the other threads' CPU per request: the usage writer when recording
    worker_us: float  # the insert worker process's CPU per request

    @property
    def cpu_us(self) -> float:
        """CPU per request in the proxy's own process (the worker is counted apart)."""
        return self.loop_us + self.others_us


@dataclass(frozen=True, slots=True)
class Plan:
    kind: str
    rounds: int
    seconds: int
    connections: int
    control: bool


async def one_turn(rig: Rig, script: Path, plan: Plan, cpu: int | None, *, on: bool) -> Turn:
    rig.switch.on = on and not plan.control
    await rig.writer.flush()  # nothing queued in the other state is written during this turn
    await run_wrk_async(
        rig.url(), script, connections=plan.connections, duration_s=SETTLE_S, cpu=cpu
    )
    loop_before, others_before = thread_cpu_seconds(os.getpid())
    worker_before = rig.worker_cpu_seconds()
    result = await run_wrk_async(
        rig.url(), script, connections=plan.connections, duration_s=plan.seconds, cpu=cpu
    )
    loop_after, others_after = thread_cpu_seconds(os.getpid())
    worker_after = rig.worker_cpu_seconds()
    if result.errors or not result.requests:
        raise BenchError(f"{result.requests} requests, {result.error_summary()}")
    per_request = 1e6 / result.requests
    return Turn(
        result.rps,
        (loop_after - loop_before) * per_request,
        (others_after - others_before) * per_request,
        (worker_after - worker_before) * per_request,
    )


def turn_order(index: int) -> tuple[bool, bool]:
    """Recording in round `index`'s two turns: off first in even rounds, on first in odd ones."""
    return (False, True) if index % 2 == 0 else (True, False)


async def compare(rig: Rig, root: Path, plan: Plan, cores: Cores) -> str:
    body = client_request(plan.kind, stream=plan.kind == "sse")
    script = write_script(root / f"{plan.kind}.lua", body, CLIENT_KEY)
    turns: list[tuple[Turn, Turn]] = []
    for index in range(plan.rounds):
        got = {on: await one_turn(rig, script, plan, cores.load, on=on) for on in turn_order(index)}
        off, on = got[False], got[True]
        turns.append((off, on))
        print(f"  {plan.kind} round {index + 1}: on/off {on.rps / off.rps:.3f}", file=sys.stderr)
    return _row(plan, turns)


def _row(plan: Plan, turns: list[tuple[Turn, Turn]]) -> str:
    ratios = sorted(on.rps / off.rps for off, on in turns)
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    off_rps = statistics.median(off.rps for off, _ in turns)
    on_rps = statistics.median(on.rps for _, on in turns)
    off_cpu = statistics.median(off.cpu_us for off, _ in turns)
    on_cpu = statistics.median(on.cpu_us for _, on in turns)
    return (
        f"| {plan.kind}{' (control)' if plan.control else ''} | {plan.connections} | "
        f"{plan.rounds} | {off_rps:,.0f} | {on_rps:,.0f} | **{statistics.median(ratios):.3f}** | "
        f"{quartiles[0]:.3f}–{quartiles[2]:.3f} | {off_cpu:.0f} | {on_cpu:.0f} | "
        f"{statistics.median(on.others_us for _, on in turns):.1f} | "
        f"{statistics.median(on.worker_us for _, on in turns):.1f} |"
    )


HEADER = (
    "| stream | conns | rounds | off req/s | on req/s | on/off (median of paired turns) | "
    "on/off quartiles | off CPU µs/req | on CPU µs/req | of which the writer thread | "
    "insert worker µs/req |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
)


async def run(plans: Sequence[Plan], root: Path, log_file: TextIO, worker_core: str) -> list[str]:
    cores = pick_cores()
    if cores.proxy is not None:  # before any thread starts: the writer thread inherits it
        os.sched_setaffinity(0, {cores.proxy})
    worker_cpu = cores.load if worker_core == "load" else cores.proxy
    rows = list(HEADER)
    with run_nginx(root / "nginx", cores.load) as nginx:
        async with serve(root, nginx, log_file, worker_cpu=worker_cpu) as rig:
            for plan in plans:
                rows.append(await compare(rig, root, plan, cores))
                print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="off/on turn pairs")
    parser.add_argument("--seconds", type=int, default=3, help="measured seconds per turn")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", choices=("json", "sse"))
    parser.add_argument(
        "--control", action="store_true", help="recording off in both turns (noise floor)"
    )
    parser.add_argument(
        "--worker-core",
        choices=("load", "proxy"),
        default="load",
        help="where the insert worker runs: the load core (a spare core) or the proxy's own",
    )
    opts = parser.parse_args(argv)
    if min(opts.rounds, opts.seconds, opts.connections) < 1:
        parser.error("--rounds, --seconds and --connections must be at least 1")
    if nginx_binary() is None or wrk_binary() is None:
        print("needs nginx and wrk: apt-get install -y nginx wrk", file=sys.stderr)
        return 2
    kinds = (opts.only,) if opts.only else ("json", "sse")
    plans = [Plan(k, opts.rounds, opts.seconds, opts.connections, opts.control) for k in kinds]
    with tempfile.TemporaryDirectory(prefix="429chain-recording-") as tmp:
        root = Path(tmp)
        return print_rows(root, lambda log_file: run(plans, root, log_file, opts.worker_core))


def print_rows(root: Path, rows: Callable[[TextIO], Coroutine[Any, Any, list[str]]]) -> int:
    """Run `rows` on uvloop with the proxy's log open in `root`; print the table it returns.

    The log file stays open until the event loop is gone (the request log flushes on a timer).
    """
    with (root / "proxy.log").open("w", encoding="utf-8") as log_file:
        try:
            table = uvloop.run(rows(log_file))
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
