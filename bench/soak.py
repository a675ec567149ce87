"""The proxy's memory over a long mixed load (issue 14: flat, under 10% growth after warm-up,
over 200,000 requests with fall-through, sampled every 10,000).

Run with `make bench-soak` (or `.venv/bin/python bench/soak.py --help`). Two simulated
providers answer at full speed: `tight` allows `--tight-rpw` requests per one-second window and
then answers a bare 429 (no `retry-after`), `roomy` has no limit. The proxy (`429chain serve`,
recording on, pinned to its core) has one chain, tight then roomy, and `cooldownDefaultMs` 0,
so every request tries tight first and those over its limit fall through a 429 to roomy (the
proxy soon learns tight's limit and goes straight to roomy for most of them). `--workers`
clients send `--requests` requests back to back in a fixed mix (see `KIND_CYCLE`): JSON,
streams read to the end, and streams the client leaves after their first event. After every
`--every` requests the proxy's RSS, threads, open files and /metrics gauges are sampled; the
growth is measured from the sample at `--warmup` requests. Exit 1 on a failed run or any
failed request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import aiohttp

from chain429.tasks import create_task
from chat_calls import Answer, post_json, post_stream
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

CHAIN = "soak"
TARGET_GROWTH = 0.10


class Kind(StrEnum):
    JSON = "json"
    STREAM = "stream"
    CANCEL = "cancelled stream"


#: The mix, repeated: half JSON, 40% streams read whole, 10% streams left after one event.
KIND_CYCLE = (Kind.JSON,) * 5 + (Kind.STREAM,) * 4 + (Kind.CANCEL,)


def kind_of(index: int) -> Kind:
    return KIND_CYCLE[index % len(KIND_CYCLE)]


@dataclass(frozen=True, slots=True)
class Options:
    requests: int
    every: int
    warmup: int
    workers: int
    tight_rpw: int


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000, help="requests in all")
    parser.add_argument("--every", type=int, default=10_000, help="requests between samples")
    parser.add_argument("--warmup", type=int, default=20_000, help="requests before the base")
    parser.add_argument("--workers", type=int, default=32, help="requests in flight at once")
    parser.add_argument("--tight-rpw", type=int, default=300, help="tight's requests per second")
    args = parser.parse_args(argv)
    if args.warmup % args.every or args.warmup >= args.requests:
        parser.error("--warmup must be a multiple of --every and below --requests")
    return Options(args.requests, args.every, args.warmup, args.workers, args.tight_rpw)


@dataclass(frozen=True, slots=True)
class Sample:
    requests: int
    seconds: float
    footprint: Footprint


@dataclass(frozen=True, slots=True)
class Growth:
    """RSS at the end of the warm-up, at the last sample and at the highest after it."""

    base_kib: int
    last_kib: int
    peak_kib: int

    @property
    def last(self) -> float:
        return self.last_kib / self.base_kib - 1

    @property
    def peak(self) -> float:
        return self.peak_kib / self.base_kib - 1


def growth(samples: Sequence[Sample], warmup: int) -> Growth:
    """The growth after the sample taken at `warmup` requests (which must exist)."""
    base = next(s for s in samples if s.requests == warmup)
    after = [s.footprint.rss_kib for s in samples if s.requests >= warmup]
    return Growth(base.footprint.rss_kib, after[-1], max(after))


@dataclass
class Tally:
    answers: Counter[str]
    providers: Counter[str]
    failures: list[tuple[Kind, Answer]]

    def add(self, kind: Kind, answer: Answer) -> None:
        if answer.ok:
            self.answers[kind.value] += 1
            self.providers[answer.provider or "?"] += 1
        else:
            self.failures.append((kind, answer))


def render(samples: Sequence[Sample], tally: Tally, opts: Options, rate_limited: int | None) -> str:
    lines = [
        f"{opts.requests:,} requests, {opts.workers} at a time; mix per {len(KIND_CYCLE)}: "
        + ", ".join(f"{n} {kind}" for kind, n in Counter(KIND_CYCLE).items()),
        "",
        "| requests | seconds | RSS | peak RSS | threads | open files | in flight "
        "| usage queue | records dropped |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for sample in samples:
        fp = sample.footprint
        metrics = fp.metrics or {}
        gauges = [
            "-" if (v := metrics.get(n)) is None else f"{v:,.0f}"
            for n in ("entry_in_flight", "usage_queue_depth", "usage_records_dropped")
        ]
        lines.append(
            f"| {sample.requests:,} | {sample.seconds:.0f} | {mib(fp.rss_kib)} | "
            f"{mib(fp.peak_kib)} | {fp.threads} | {fp.open_files} | " + " | ".join(gauges) + " |"
        )
    grown = growth(samples, opts.warmup)
    verdict = "met" if grown.peak < TARGET_GROWTH else "MISSED"
    lines += [
        "",
        f"- growth after the warm-up ({opts.warmup:,} requests, {mib(grown.base_kib)}): "
        f"{grown.last:+.1%} at the end ({mib(grown.last_kib)}), {grown.peak:+.1%} at the "
        f"highest ({mib(grown.peak_kib)}); target under {TARGET_GROWTH:.0%}: {verdict}",
        "- answered: " + ", ".join(f"{n:,} {k}" for k, n in sorted(tally.answers.items())),
        "- served by: " + ", ".join(f"{p} {n:,}" for p, n in sorted(tally.providers.items())),
        f"- 429s from tight (each one fell through to roomy): "
        f"{'-' if rate_limited is None else f'{rate_limited:,}'}",
        f"- failed requests: {len(tally.failures)}",
    ]
    lines += [f"  - {kind}: {answer}" for kind, answer in tally.failures[:10]]
    return "\n".join(lines)


def simulated_providers(opts: Options) -> list[dict[str, object]]:
    return [
        {
            "name": "tight",
            "dialect": "none",
            "retryAfter": False,
            "requestsPerWindow": opts.tight_rpw,
            "windowSeconds": 1,
        },
        {"name": "roomy", "dialect": "none"},
    ]


def proxy_config(port: int, db_path: Path, base_url: dict[str, str]) -> dict[str, object]:
    return {
        "version": 1,
        # tight's bare 429s carry no timing; no cooldown after them, so every request tries
        # tight first and those over its limit fall through to roomy.
        "settings": proxy_settings(port, db_path, defaultChain=CHAIN, cooldownDefaultMs=0),
        "providers": [
            {"id": name, "type": "generic-openai", "apiKey": "sk-sim", "baseUrl": url}
            for name, url in base_url.items()
        ],
        "chains": [
            {
                "name": CHAIN,
                "entries": [{"provider": name, "model": "sim-small"} for name in base_url],
            }
        ],
    }


async def soak(proxy: ServedProxy, opts: Options) -> tuple[list[Sample], Tally]:
    bodies = {stream: client_request(CHAIN, stream=stream) for stream in (False, True)}
    tally = Tally(Counter(), Counter(), [])
    samples: list[Sample] = []
    next_index = 0
    completed = 0
    started = time.monotonic()

    async def call(session: aiohttp.ClientSession, kind: Kind) -> Answer:
        if kind is Kind.JSON:
            return await post_json(session, proxy.url, bodies[False])
        cancel = kind is Kind.CANCEL
        return await post_stream(session, proxy.url, bodies[True], cancel_after_first=cancel)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal next_index, completed
        while next_index < opts.requests:
            kind = kind_of(next_index)
            next_index += 1
            tally.add(kind, await call(session, kind))
            completed += 1
            if completed % opts.every == 0:
                count, seconds = completed, time.monotonic() - started
                fp = await asyncio.to_thread(footprint, proxy.pid, proxy.port)
                samples.append(Sample(count, seconds, fp))
                print(f"{count:,} requests: RSS {mib(fp.rss_kib)}", file=sys.stderr)

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        workers = [create_task(worker(session), name=f"worker {i}") for i in range(opts.workers)]
        await asyncio.gather(*workers)
    return samples, tally


def run(opts: Options) -> tuple[str, Tally]:
    cores = pick_cores()
    if cores.load is not None:
        os.sched_setaffinity(0, {cores.load})  # the client beside the simulator
    with tempfile.TemporaryDirectory(prefix="429chain-soak-") as tmp:
        root = Path(tmp)
        with run_simulator(root / "sim", simulated_providers(opts), cores.load) as sim:
            port = free_port()
            urls = {name: sim.base_url(name) for name in ("tight", "roomy")}
            config = proxy_config(port, root / "usage.db", urls)
            with serve_proxy(root / "proxy", config, port, cores.proxy) as proxy:
                samples, tally = asyncio.run(soak(proxy, opts))
            rate_limited = sim.stats("tight").get("rate_limited")
    return render(samples, tally, opts, rate_limited), tally


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    if shutil.which("taskset") is None:
        print("taskset is missing: apt-get install -y util-linux", file=sys.stderr)
        return 2
    try:
        report, tally = run(opts)
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
