"""The proxy's memory with many streams open at once (issue 14: under 200 MiB with 1,000).

Run with `make bench-streams` (or `.venv/bin/python bench/streams_open.py --help`). The
simulator streams slowly (one content chunk every `--chunk-ms`, `--chunks` of them); the proxy
(`429chain serve`, recording on) sits in front of it, pinned to its core; this script (aiohttp,
one connection per stream) opens `--streams` streams, at most `--opening` at a time, and waits
until every one has received its first event. While all are open it samples the proxy's RSS,
threads, open files and in-flight gauge `--samples` times, a second apart; then it reads every
stream to `[DONE]` and samples again once they are closed. Any stream that fails (a status
other than 200, a broken or unfinished stream), or that ends before the last sample (then not
all were open at once), fails the benchmark: exit 1. Exit 2 when a tool is missing.
"""

from __future__ import annotations

import argparse
import asyncio
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


@dataclass(frozen=True, slots=True)
class Options:
    streams: int
    opening: int
    chunk_ms: int
    chunks: int
    samples: int


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1_000, help="streams open at once")
    parser.add_argument("--opening", type=int, default=50, help="streams being opened at once")
    parser.add_argument("--chunk-ms", type=int, default=500, help="ms between content chunks")
    parser.add_argument("--chunks", type=int, default=60, help="content chunks per stream")
    parser.add_argument("--samples", type=int, default=3, help="samples while all are open")
    args = parser.parse_args(argv)
    return Options(args.streams, args.opening, args.chunk_ms, args.chunks, args.samples)


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


@dataclass(frozen=True, slots=True)
class Report:
    idle: Footprint
    open_samples: list[Footprint]
    closed: Footprint
    answers: list[Answer]
    open_at_once: int
    seconds_to_open: float

    def errors(self) -> list[Answer]:
        return [answer for answer in self.answers if not answer.ok]

    def render(self, opts: Options) -> str:
        peak_open = max(sample.rss_kib for sample in self.open_samples)
        lines = [
            f"{opts.streams:,} streams through the proxy ({opts.chunks} chunks, one every "
            f"{opts.chunk_ms} ms); all {self.open_at_once:,} open after "
            f"{self.seconds_to_open:.1f} s",
            "",
            "| when | RSS | peak RSS | threads | open files | in flight (metrics) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            _row("idle, after start", self.idle),
            *(_row(f"all open, sample {i + 1}", s) for i, s in enumerate(self.open_samples)),
            _row("all closed", self.closed),
            "",
            f"- RSS with all open: {mib(peak_open)} (issue 14's target: under {TARGET_MIB} MiB); "
            f"{mib(peak_open - self.idle.rss_kib)} above idle, "
            f"{(peak_open - self.idle.rss_kib) / max(1, opts.streams):.1f} KiB per stream",
            f"- errors: {len(self.errors())} of {len(self.answers):,} streams",
        ]
        lines += [f"  - {answer}" for answer in self.errors()[:10]]
        return "\n".join(lines)


def _row(when: str, sample: Footprint) -> str:
    in_flight = sample.metrics.get("entry_in_flight") if sample.metrics is not None else None
    shown = "-" if in_flight is None else f"{in_flight:,.0f}"
    return (
        f"| {when} | {mib(sample.rss_kib)} | {mib(sample.peak_kib)} | {sample.threads} | "
        f"{sample.open_files:,} | {shown} |"
    )


async def hold_streams(proxy: ServedProxy, opts: Options) -> Report:
    idle = footprint(proxy.pid, proxy.port)
    body = client_request(CHAIN, stream=True)
    opened = 0
    ended: list[Answer] = []
    all_open = asyncio.Event()
    gate = asyncio.Semaphore(opts.opening)

    def one_open() -> None:
        nonlocal opened
        opened += 1
        gate.release()
        if opened == opts.streams:
            all_open.set()

    async def one(session: aiohttp.ClientSession) -> Answer:
        await gate.acquire()
        answer = await post_stream(session, proxy.url, body, on_first_event=one_open)
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
        seconds_to_open = time.monotonic() - started
        samples = []
        for _ in range(opts.samples):
            samples.append(await asyncio.to_thread(footprint, proxy.pid, proxy.port))
            await asyncio.sleep(1.0)
        if finished := [answer for answer in ended if answer.ok]:
            raise BenchError(
                f"{len(finished)} streams ended before the last sample: not all were open at once "
                "(make them longer with --chunks or --chunk-ms)"
            )
        answers = await asyncio.gather(*calls)
    closed = footprint(proxy.pid, proxy.port)
    return Report(idle, samples, closed, list(answers), opened, seconds_to_open)


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
    return 1 if report.errors() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
