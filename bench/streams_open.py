"""Many streams held open at once through the proxy (issue 14: under 200 MiB with 1,000;
issue 16: 1,000 held for 60 s with 0 errors).

Run with `make bench-streams` (or `.venv/bin/python bench/streams_open.py --help`). The
simulator streams slowly (`--chunks` content chunks, one every `--chunk-ms`: by default spaced so
that a stream lasts `--hold` plus `--open-s`, the time allowed for opening them all); the proxy
(`429chain serve`, recording on) sits in front of it, pinned to its core; this script (aiohttp,
one connection per stream) opens `--streams` streams, at most `--opening` at a time, and waits
until every one has received its first event. It then holds them all open for `--hold` seconds,
sampling the proxy's RSS, threads, open files, event-loop tasks and in-flight gauge `--samples`
times spread over the hold; then it reads every stream to `[DONE]` and samples again once they
are closed. An error is a status other than 200, a broken stream, one that ends without
`[DONE]`, or one with fewer content events than the simulator sent; any error fails the
benchmark (exit 1), and so does a stream that ends before the hold is over (then not all were
held at once). Exit 2 when a tool is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from chain429.tasks import create_task
from chat_calls import Answer, post_stream
from memory_rig import (
    Footprint,
    ServedProxy,
    footprint,
    mib,
    proxy_settings,
    run_simulator,
    serve_proxy,
)
from overhead import pick_cores
from payloads import client_request
from spawn import BenchError, free_port

PROVIDER = "slowsim"
CHAIN = "slow"
TARGET_MIB = 200
#: The client's `max_tokens` (bench/payloads.py): the simulator sends no more words than that.
MAX_CHUNKS = 64


@dataclass(frozen=True, slots=True)
class Options:
    streams: int
    opening: int
    chunk_ms: int
    chunks: int
    samples: int
    hold_s: float


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1_000, help="streams open at once")
    parser.add_argument("--opening", type=int, default=50, help="streams being opened at once")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds all are held open")
    parser.add_argument(
        "--open-s", type=float, default=30.0, help="seconds allowed for opening them all"
    )
    parser.add_argument(
        "--chunk-ms", type=int, help="ms between content chunks (default: from --hold, --open-s)"
    )
    parser.add_argument("--chunks", type=int, default=60, help="content chunks per stream")
    parser.add_argument("--samples", type=int, default=7, help="samples over the hold (>= 2)")
    args = parser.parse_args(argv)
    if not 1 <= args.chunks <= MAX_CHUNKS:
        parser.error(f"--chunks must be 1 to {MAX_CHUNKS} (the client's max_tokens)")
    if args.samples < 2 or args.hold <= 0:
        parser.error("--samples must be at least 2 and --hold positive")
    chunk_ms = args.chunk_ms or stream_spacing_ms(args.hold + args.open_s, args.chunks)
    return Options(args.streams, args.opening, chunk_ms, args.chunks, args.samples, args.hold)


def stream_spacing_ms(lasting_s: float, chunks: int) -> int:
    """The ms between chunks for a stream of `chunks` chunks to last `lasting_s` seconds."""
    return math.ceil(lasting_s * 1000 / chunks)


def sample_times(hold_s: float, samples: int) -> list[float]:
    """Seconds after all streams are open at which to sample: evenly from 0 to `hold_s`."""
    return [hold_s * i / (samples - 1) for i in range(samples)]


def simulated_providers(opts: Options) -> list[dict[str, object]]:
    return [
        {
            "name": PROVIDER,
            "replyWords": opts.chunks,
            "wordsPerChunk": 1,
            "interChunkMs": opts.chunk_ms,
        }
    ]


def proxy_config(port: int, db_path: Path, base_url: str, opts: Options) -> dict[str, object]:
    # A stream lives chunks x chunk-ms; nothing in it may be mistaken for a stall.
    idle_ms = max(30_000, 4 * opts.chunk_ms)
    return {
        "version": 1,
        "settings": proxy_settings(port, db_path, defaultChain=CHAIN, streamIdleTimeoutMs=idle_ms),
        "providers": [
            {"id": PROVIDER, "type": "generic-openai", "apiKey": "sk-sim", "baseUrl": base_url}
        ],
        "chains": [{"name": CHAIN, "entries": [{"provider": PROVIDER, "model": "sim-small"}]}],
    }


def stream_error(answer: Answer, chunks: int) -> str | None:
    """Why one held stream counts as an error (None: it is not one): a failed call, or a
    stream whole to `[DONE]` with fewer content events than the simulator sent."""
    if not answer.ok:
        return answer.error or f"status {answer.status}"
    if answer.events < chunks:
        return f"{answer.events} content events of {chunks}"
    return None


@dataclass(frozen=True, slots=True)
class Report:
    idle: Footprint
    open_samples: list[tuple[float, Footprint]]
    closed: Footprint
    answers: list[Answer]
    open_at_once: int
    seconds_to_open: float
    held_s: float
    run_s: float

    def errors(self, chunks: int) -> list[str]:
        found = (stream_error(answer, chunks) for answer in self.answers)
        return [error for error in found if error is not None]

    def render(self, opts: Options) -> str:
        peak_open = max(sample.rss_kib for _, sample in self.open_samples)
        errors = self.errors(opts.chunks)
        lines = [
            f"{opts.streams:,} streams through the proxy ({opts.chunks} chunks, one every "
            f"{opts.chunk_ms} ms); all {self.open_at_once:,} open after "
            f"{self.seconds_to_open:.1f} s, held together for {self.held_s:.1f} s "
            f"(--hold {opts.hold_s:g}); the run took {self.run_s:.0f} s",
            "",
            "| when | RSS | peak RSS | threads | open files | event-loop tasks "
            "| in flight (metrics) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            _row("idle, after start", self.idle),
            *(_row(f"all open, {at:.0f} s into the hold", s) for at, s in self.open_samples),
            _row("all closed", self.closed),
            "",
            f"- RSS with all open: {mib(peak_open)} (issue 14's target: under {TARGET_MIB} MiB); "
            f"{mib(peak_open - self.idle.rss_kib)} above idle, "
            f"{(peak_open - self.idle.rss_kib) / max(1, opts.streams):.1f} KiB per stream; "
            f"peak (VmHWM) {mib(self.closed.peak_kib)}, after {mib(self.closed.rss_kib)}",
            f"- errors: {len(errors)} of {len(self.answers):,} streams (issue 16's target: 0)",
        ]
        lines += [f"  - {error}" for error in errors[:10]]
        return "\n".join(lines)


def _row(when: str, sample: Footprint) -> str:
    metrics = sample.metrics or {}
    shown = [
        "-" if (value := metrics.get(name)) is None else f"{value:,.0f}"
        for name in ("event_loop_tasks", "entry_in_flight")
    ]
    return (
        f"| {when} | {mib(sample.rss_kib)} | {mib(sample.peak_kib)} | {sample.threads} | "
        f"{sample.open_files:,} | " + " | ".join(shown) + " |"
    )


async def hold_streams(proxy: ServedProxy, opts: Options) -> Report:
    idle = footprint(proxy.pid, proxy.port)
    body = client_request(CHAIN, stream=True)
    opened = 0
    ended: list[Answer] = []
    first_end: float | None = None
    all_open = asyncio.Event()
    gate = asyncio.Semaphore(opts.opening)

    def one_open() -> None:
        nonlocal opened
        opened += 1
        gate.release()
        if opened == opts.streams:
            all_open.set()

    async def one(session: aiohttp.ClientSession) -> Answer:
        nonlocal first_end
        await gate.acquire()
        answer = await post_stream(session, proxy.url, body, on_first_event=one_open)
        first_end = first_end or time.monotonic()
        ended.append(answer)
        if not answer.ok or answer.cancelled:
            gate.release()
            all_open.set()  # it never opened: stop waiting, the report shows the error
        return answer

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.monotonic()
        calls = [create_task(one(session), name=f"stream {i}") for i in range(opts.streams)]
        await all_open.wait()
        held_from = time.monotonic()
        seconds_to_open = held_from - started
        samples = []
        for at in sample_times(opts.hold_s, opts.samples):
            await asyncio.sleep(max(0.0, held_from + at - time.monotonic()))
            samples.append((at, await asyncio.to_thread(footprint, proxy.pid, proxy.port)))
        if finished := [answer for answer in ended if answer.ok]:
            raise BenchError(
                f"{len(finished)} streams ended before the hold was over: not all were held at "
                f"once (opening took {seconds_to_open:.1f} s: raise --open-s or --chunk-ms)"
            )
        answers = await asyncio.gather(*calls)
    closed = footprint(proxy.pid, proxy.port)
    held_s = (first_end or time.monotonic()) - held_from
    run_s = time.monotonic() - started
    return Report(idle, samples, closed, list(answers), opened, seconds_to_open, held_s, run_s)


def run(opts: Options) -> Report:
    cores = pick_cores()
    if cores.load is not None:
        os.sched_setaffinity(
            0, {cores.load}
        )  # the client beside the simulator, off the proxy's core
    with tempfile.TemporaryDirectory(prefix="429chain-streams-") as tmp:
        root = Path(tmp)
        with run_simulator(root / "sim", simulated_providers(opts), cores.load) as sim:
            port = free_port()
            config = proxy_config(port, root / "usage.db", sim.base_url(PROVIDER), opts)
            with serve_proxy(root / "proxy", config, port, cores.proxy) as proxy:
                time.sleep(1.0)
                return asyncio.run(hold_streams(proxy, opts))


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    if shutil.which("taskset") is None:
        print("taskset is missing: apt-get install -y util-linux", file=sys.stderr)
        return 2
    try:
        report = run(opts)
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    print(report.render(opts))
    return 1 if report.errors(opts.chunks) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
