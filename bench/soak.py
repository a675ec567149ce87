"""The proxy over a long mixed load (issue 14: memory flat, under 10% growth after warm-up, over
200,000 requests with fall-through; issue 16: with client cancels and queue mode on, and the
event loop's tasks and open descriptors back to the same figure), sampled every 10,000.

Run with `make bench-soak` (or `.venv/bin/python bench/soak.py --help`). Three simulated
providers answer at full speed: `tight` allows `--tight-rpw` requests per one-second window and
then answers a bare 429 (no `retry-after`), `roomy` has no limit, `scarce` allows `--scarce-rpw`
requests per one-second window (with rate-limit headers). The proxy (`429chain serve`, recording
on, queue mode on, pinned to its core) has two chains. `soak` is tight then roomy, with
`cooldownDefaultMs` 0, so every request tries tight first and those over its limit fall through
a 429 to roomy (the proxy soon learns tight's limit and goes straight to roomy for most of
them). `queued` is scarce alone: its requests wait in the queue for scarce's next window.

The requests go in batches of `--every`. In each, `--workers` clients send requests to `soak`
back to back in a fixed mix (see `KIND_CYCLE`: JSON, streams read to the end, streams the client
leaves after their first event) and `--queue-workers` clients send streams to `queued` (see
`QUEUE_CYCLE`: read to the end, or given up by the client after `--queued-cancel-ms` without an
answer, while still waiting). After each batch the client closes its connections and waits for
a quiet point (nothing in flight, queued or waiting to be written, the task count steady), then
samples the proxy: RSS, threads, open files and /metrics gauges. RSS growth and the drift of the
task count and open files are measured from the sample at `--warmup` requests. Exit 1 on a
failed run, any failed request, or a soak that is not flat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import aiohttp

from chain429.tasks import create_task
from chat_calls import Answer, post_json, post_stream
from memory_rig import ServedProxy, footprint, mib, proxy_settings, run_simulator, serve_proxy
from overhead import pick_cores, save_report
from payloads import client_request
from soak_report import Flatness, Sample, flatness, flatness_lines, samples_table
from spawn import BenchError, free_port

CHAIN = "soak"
QUEUED_CHAIN = "queued"
#: Polls of /metrics a quiet point needs in a row with the same task count, and their spacing.
QUIET_POLLS = 3
QUIET_POLL_S = 0.2
#: A queued stream that took longer than this was left waiting well past scarce's next window.
LONG_WAIT_S = 5.0


class Kind(StrEnum):
    JSON = "json"
    STREAM = "stream"
    CANCEL = "stream cut after its first event"
    QUEUED = "queued stream"
    QUEUED_CANCEL = "queued stream cut while waiting"


#: The mix on `soak`, repeated: half JSON, 40% streams read whole, 10% streams left after one
#: event.
KIND_CYCLE = (Kind.JSON,) * 5 + (Kind.STREAM,) * 4 + (Kind.CANCEL,)
#: The mix on `queued`, repeated: three streams read whole, then one given up while waiting.
QUEUE_CYCLE = (Kind.QUEUED,) * 3 + (Kind.QUEUED_CANCEL,)


def kind_of(index: int) -> Kind:
    return KIND_CYCLE[index % len(KIND_CYCLE)]


def queue_kind_of(index: int) -> Kind:
    return QUEUE_CYCLE[index % len(QUEUE_CYCLE)]


@dataclass(frozen=True, slots=True)
class Options:
    requests: int
    every: int
    warmup: int
    workers: int
    tight_rpw: int
    queue_workers: int = 8
    scarce_rpw: int = 20
    queued_cancel_ms: int = 200
    task_slack: int = 2
    fd_slack: int = 16
    quiet_timeout_s: float = 30.0


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--requests", type=int, default=200_000, help="requests in all")
    add("--every", type=int, default=10_000, help="requests between samples (a batch)")
    add("--warmup", type=int, default=20_000, help="requests before the base sample")
    add("--workers", type=int, default=32, help="clients sending the mix to `soak` at once")
    add("--tight-rpw", type=int, default=300, help="tight's requests per second")
    add("--queue-workers", type=int, default=8, help="clients sending to `queued` at once")
    add("--scarce-rpw", type=int, default=20, help="scarce's requests per second")
    add("--queued-cancel-ms", type=int, default=200, help="a queued cut gives up after this")
    add("--task-slack", type=int, default=2, help="tasks at quiet points: base ± this")
    add("--fd-slack", type=int, default=16, help="open files at quiet points: base ± this")
    add("--quiet-timeout", type=float, default=30.0, help="seconds to wait for a quiet point")
    args = parser.parse_args(argv)
    if args.warmup % args.every or args.warmup >= args.requests:
        parser.error("--warmup must be a multiple of --every and below --requests")
    return Options(
        args.requests,
        args.every,
        args.warmup,
        args.workers,
        args.tight_rpw,
        args.queue_workers,
        args.scarce_rpw,
        args.queued_cancel_ms,
        args.task_slack,
        args.fd_slack,
        args.quiet_timeout,
    )


@dataclass
class Tally:
    answers: Counter[str]
    providers: Counter[str]
    failures: list[tuple[Kind, Answer]]
    queued_seconds: list[float] = field(default_factory=list)

    def add(self, kind: Kind, answer: Answer, seconds: float = 0.0) -> None:
        if not answer.ok:
            self.failures.append((kind, answer))
            return
        if kind is Kind.QUEUED_CANCEL and not answer.cut_before_headers:
            self.answers[f"{kind.value} (answered before the cut)"] += 1
        else:
            self.answers[kind.value] += 1
        if answer.provider is not None:
            self.providers[answer.provider] += 1
        if kind is Kind.QUEUED:
            self.queued_seconds.append(seconds)


def render(
    samples: Sequence[Sample],
    tally: Tally,
    opts: Options,
    verdicts: Flatness,
    sim_stats: dict[str, dict[str, object]],
) -> str:
    mix = ", ".join(f"{n} {kind}" for kind, n in Counter(KIND_CYCLE).items())
    queue_mix = ", ".join(f"{n} {kind}" for kind, n in Counter(QUEUE_CYCLE).items())
    lines = [
        f"{opts.requests:,} requests in batches of {opts.every:,}; {opts.workers} clients on "
        f"`{CHAIN}` (mix per {len(KIND_CYCLE)}: {mix}) and {opts.queue_workers} on "
        f"`{QUEUED_CHAIN}` (mix per {len(QUEUE_CYCLE)}: {queue_mix}, cut after "
        f"{opts.queued_cancel_ms} ms); queue mode on; sampled at quiet points after each batch",
        "",
        *samples_table(samples),
        "",
        *flatness_lines(samples, opts.warmup, verdicts),
        "- answered: " + ", ".join(f"{n:,} {k}" for k, n in sorted(tally.answers.items())),
        "- served by: " + ", ".join(f"{p} {n:,}" for p, n in sorted(tally.providers.items())),
        f"- 429s from tight (each one fell through to roomy): "
        f"{_stat(sim_stats, 'tight', 'rate_limited')}",
        f"- queued streams read whole took {queue_waits(tally.queued_seconds)} (scarce allows "
        f"{opts.scarce_rpw} a second); scarce had {_stat(sim_stats, 'scarce', 'requests')} "
        f"calls, {_stat(sim_stats, 'scarce', 'rate_limited')} of them answered 429",
        f"- failed requests: {len(tally.failures)}",
    ]
    lines += [f"  - {kind}: {answer}" for kind, answer in tally.failures[:10]]
    return "\n".join(lines)


def queue_waits(seconds: Sequence[float]) -> str:
    """The median and longest time of the queued streams, and how many took over
    `LONG_WAIT_S` (scarce's window is a second: such a request was left waiting)."""
    if not seconds:
        return "-"
    waits = sorted(seconds)
    long_waits = sum(1 for wait in waits if wait > LONG_WAIT_S)
    return (
        f"{statistics.median(waits):.2f} s median, {waits[-1]:.2f} s longest, "
        f"{long_waits:,} over {LONG_WAIT_S:g} s"
    )


def _stat(stats: dict[str, dict[str, object]], provider: str, name: str) -> str:
    value = stats.get(provider, {}).get(name)
    return f"{value:,}" if isinstance(value, int) else "-"


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
        {"name": "scarce", "requestsPerWindow": opts.scarce_rpw, "windowSeconds": 1},
    ]


def proxy_config(port: int, db_path: Path, base_url: dict[str, str]) -> dict[str, object]:
    # tight's bare 429s carry no timing; no cooldown after them, so every request tries
    # tight first and those over its limit fall through to roomy. Queue mode: a request to
    # `queued` that finds scarce exhausted waits for its next window instead of a 429.
    settings = proxy_settings(
        port, db_path, defaultChain=CHAIN, cooldownDefaultMs=0, queueMode=True
    )
    return {
        "version": 1,
        "settings": settings,
        "providers": [
            {"id": name, "type": "generic-openai", "apiKey": "sk-sim", "baseUrl": url}
            for name, url in base_url.items()
        ],
        "chains": [
            {
                "name": CHAIN,
                "entries": [
                    {"provider": name, "model": "sim-small"} for name in ("tight", "roomy")
                ],
            },
            {"name": QUEUED_CHAIN, "entries": [{"provider": "scarce", "model": "sim-small"}]},
        ],
    }


@dataclass
class Load:
    """The requests of the whole soak: what each kind sends, and where the mixes stand."""

    proxy: ServedProxy
    opts: Options
    tally: Tally
    bodies: dict[str, str]
    mix_index: int = 0
    queue_index: int = 0

    async def call(self, session: aiohttp.ClientSession, kind: Kind) -> Answer:
        url = self.proxy.url
        if kind is Kind.JSON:
            return await post_json(session, url, self.bodies[CHAIN + "/json"])
        if kind in (Kind.STREAM, Kind.CANCEL):
            cut = kind is Kind.CANCEL
            return await post_stream(session, url, self.bodies[CHAIN], cancel_after_first=cut)
        cancel_s = self.opts.queued_cancel_ms / 1000 if kind is Kind.QUEUED_CANCEL else None
        return await post_stream(session, url, self.bodies[QUEUED_CHAIN], cancel_before_s=cancel_s)

    async def batch(self, size: int) -> None:
        """`size` requests from both kinds of client, on connections closed at the end."""
        taken = 0

        def take(queued: bool) -> Kind | None:
            nonlocal taken
            if taken >= size:
                return None
            taken += 1
            if queued:
                self.queue_index += 1
                return queue_kind_of(self.queue_index - 1)
            self.mix_index += 1
            return kind_of(self.mix_index - 1)

        async def client(session: aiohttp.ClientSession, queued: bool) -> None:
            while (kind := take(queued)) is not None:
                started = time.monotonic()
                answer = await self.call(session, kind)
                self.tally.add(kind, answer, time.monotonic() - started)

        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            clients = [(False, i) for i in range(self.opts.workers)]
            clients += [(True, i) for i in range(self.opts.queue_workers)]
            await asyncio.gather(
                *(
                    create_task(client(session, queued), name=f"client {queued} {i}")
                    for queued, i in clients
                )
            )


def is_busy(metrics: Mapping[str, float] | None) -> bool:
    """Whether the proxy still has work: a request in flight or queued, records unwritten."""
    if metrics is None:
        return True
    names = ("entry_in_flight", "chain_queue_depth", "usage_queue_depth")
    return any(metrics.get(name, 0.0) > 0 for name in names)


async def quiet_sample(
    proxy: ServedProxy, requests: int, seconds: float, timeout_s: float
) -> Sample:
    """The proxy's footprint once it is idle: no work left (`is_busy`) and the same task count
    over `QUIET_POLLS` polls in a row; not quiet when that takes longer than `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    steady: list[float | None] = []
    while True:
        fp = await asyncio.to_thread(footprint, proxy.pid, proxy.port)
        tasks = (fp.metrics or {}).get("event_loop_tasks")
        steady = [*steady, tasks][-QUIET_POLLS:] if not is_busy(fp.metrics) else []
        if len(steady) == QUIET_POLLS and len(set(steady)) == 1:
            return Sample(requests, seconds, fp)
        if time.monotonic() > deadline:
            return Sample(requests, seconds, fp, quiet=False)
        await asyncio.sleep(QUIET_POLL_S)


async def soak(proxy: ServedProxy, opts: Options) -> tuple[list[Sample], Tally]:
    bodies = {
        CHAIN + "/json": client_request(CHAIN, stream=False),
        CHAIN: client_request(CHAIN, stream=True),
        QUEUED_CHAIN: client_request(QUEUED_CHAIN, stream=True),
    }
    load = Load(proxy, opts, Tally(Counter(), Counter(), []), bodies)
    samples: list[Sample] = []
    started = time.monotonic()
    for done in range(opts.every, opts.requests + 1, opts.every):
        await load.batch(opts.every)
        sample = await quiet_sample(proxy, done, time.monotonic() - started, opts.quiet_timeout_s)
        samples.append(sample)
        tasks = sample.tasks
        print(
            f"{done:,} requests: RSS {mib(sample.footprint.rss_kib)}, tasks "
            f"{'-' if tasks is None else f'{tasks:.0f}'}, open files {sample.open_files}",
            file=sys.stderr,
        )
    return samples, load.tally


def run(opts: Options) -> tuple[str, Tally, Flatness]:
    cores = pick_cores()
    if cores.load is not None:
        os.sched_setaffinity(0, {cores.load})  # the client beside the simulator
    with tempfile.TemporaryDirectory(prefix="429chain-soak-") as tmp:
        root = Path(tmp)
        with run_simulator(root / "sim", simulated_providers(opts), cores.load) as sim:
            port = free_port()
            urls = {name: sim.base_url(name) for name in ("tight", "roomy", "scarce")}
            config = proxy_config(port, root / "usage.db", urls)
            with serve_proxy(root / "proxy", config, port, cores.proxy) as proxy:
                samples, tally = asyncio.run(soak(proxy, opts))
            sim_stats = {name: sim.stats(name) for name in urls}
    verdicts = flatness(samples, opts.warmup, task_slack=opts.task_slack, fd_slack=opts.fd_slack)
    return render(samples, tally, opts, verdicts, sim_stats), tally, verdicts


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    if shutil.which("taskset") is None:
        print("taskset is missing: apt-get install -y util-linux", file=sys.stderr)
        return 2
    try:
        report, tally, verdicts = run(opts)
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    print(report)
    save_report("soak", report)
    return 1 if tally.failures or not verdicts.flat else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
