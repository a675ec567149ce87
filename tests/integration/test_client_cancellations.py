"""10,000 streams cancelled by their clients at seeded random points (before the upstream's
headers, before its first content event, at the commit point, mid-stream, while queued) leave
nothing behind, and each one is recorded as closed by its client (issue 16).

Afterwards, polled under a deadline: no connection is open to the upstream (the simulator counts
them), the process holds no asyncio task and no file descriptor beyond its baseline, the tracker
holds no reservation (`LimitTracker.holdings`), no request is in flight or queued, every call
the upstream received was left by the proxy, and the database holds one record per stream.

No upstream connection may stay open, not even an idle pooled one. A keep-alive connection
kept idle in the pool is legitimate, and bounded by the pool, but only after an answer read to
its end; every stream here is cut before its end (the upstream's answers are minutes long), and
a connection whose answer was not read to its end cannot be reused: the proxy must close it.
The warm-up before the baseline cuts its streams too, so the baseline has none either. A
proxy that pooled a half-read connection, or never closed one, shows here as a count above 0.

The clients: a raw HTTP/1.1 client on asyncio streams for the bulk (half leave with a FIN,
half with a RST), the openai SDK for a few hundred (closing the stream, or cancelled while it
waits). The run is on uvloop, as `429chain serve` runs, so the test owns its event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import openai
import pytest
import uvloop

from chain429.app import AppOptions
from chain429.server import RunningServer
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from chain429.state import STATE
from tests.support.cancellations import Cancel, Clients, Point, plan, run_batches, run_free
from tests.support.clock import FakeClock
from tests.support.leaks import baseline, settled
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, make_config, start_proxy
from tests.support.usage_db import query, usage_settings

SEED = 16
STREAMS = 10_000
SDK_SHARE = 0.02
CONCURRENCY = 48
BATCH = 48
#: Long enough that no stream here ends by itself, nor does any timeout of the proxy fire.
MINUTES_MS = 600_000

#: The simulated provider behind each point's chain (the chain is named after the point).
PROVIDERS = {
    Point.BEFORE_HEADERS: "stall",
    Point.BEFORE_CONTENT: "silent",
    Point.AT_COMMIT: "flow",
    Point.MID_STREAM: "flow",
    Point.QUEUED: "held",
}
#: (chain, status, closed by the client, error class, serving provider, waited in the queue)
Record = tuple[str, int, int, str, str | None, int]


def simulator() -> Simulator:
    common = {"dialect": Dialect.NONE, "inter_chunk_ms": 5.0, "reply_words": 5_000}
    return Simulator(
        [
            SimProviderConfig(name="stall", latency_ms=MINUTES_MS, **common),
            SimProviderConfig(name="silent", ttft_ms=MINUTES_MS, **common),
            SimProviderConfig(name="flow", **common),
            SimProviderConfig(name="held", **common),
        ]
    )


@asynccontextmanager
async def running(db: Path) -> AsyncIterator[tuple[Simulator, RunningServer, Clients]]:
    """The simulator, the proxy over it in queue mode, recording into `db`, and the clients."""
    known = {"rateLimits": {"requestsPerMinute": 1_000_000}}  # limits known: no probing
    async with simulator() as sim:
        config = make_config(
            [(name, sim.base_url(name)) for name in sim.names],
            chain=[("flow", "sim-small")],
            extra_chains={point.value: [(PROVIDERS[point], "sim-small")] for point in Point},
            provider_extra={
                "stall": known,
                "silent": known,
                "flow": known,
                "held": {"rateLimits": {"requestsPerMinute": 1}},
            },
            settings=usage_settings(
                db,
                queueMode=True,
                queueMaxWaitMs=MINUTES_MS,
                queueMaxSize=1_000,
                requestTimeoutMs=MINUTES_MS,
                streamIdleTimeoutMs=MINUTES_MS,
            ),
        )
        # The clock never moves: the queued chain's one request a minute, spent by the
        # warm-up's first stream, never comes back, and no waiter's deadline comes.
        server = await start_proxy(config, AppOptions(clock=FakeClock()))
        sdk = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key=CLIENT_KEY, max_retries=0)
        try:
            yield sim, server, Clients(server.host, server.port, sdk)
        finally:
            await sdk.close()
            await server.stop()


def queue_depth(server: RunningServer) -> int:
    queues = server.app[STATE].waterfall.queues
    return 0 if queues is None else queues.depths().get(Point.QUEUED.value, 0)


async def cancel_all(
    sim: Simulator, server: RunningServer, clients: Clients, cancels: list[Cancel]
) -> None:
    """Run `cancels`, every point at once: the waiting points in batches (see
    `tests.support.cancellations`), the others `CONCURRENCY` at a time."""
    rng = random.Random(SEED)
    by_point = {point: [c for c in cancels if c.point is point] for point in Point}
    free = by_point[Point.AT_COMMIT] + by_point[Point.MID_STREAM]
    rng.shuffle(free)

    def received(name: str) -> Callable[[], int]:
        return lambda: sim.stats(name)["requests"]

    await asyncio.gather(
        run_free(clients, free, CONCURRENCY),
        run_batches(clients, by_point[Point.BEFORE_HEADERS], BATCH, received("stall"), rng),
        run_batches(clients, by_point[Point.BEFORE_CONTENT], BATCH, received("silent"), rng),
        run_batches(
            clients,
            by_point[Point.QUEUED],
            BATCH,
            lambda: queue_depth(server),
            rng,
            ready=lambda: queue_depth(server) == 0,
        ),
    )


def recorded(db: Path) -> Counter[Record]:
    rows = query(
        db,
        "SELECT chain, status, client_closed, error_class, provider_id,"
        " queued_ms IS NOT NULL AS queued, count(*) AS n FROM requests GROUP BY 1, 2, 3, 4, 5, 6",
    )
    return Counter({tuple(r.values())[:-1]: r["n"] for r in rows})


def expected_records(cancels: list[Cancel]) -> Counter[Record]:
    """Each stream a 499 closed by its client; one that reached the commit point names the
    provider that served it, one that waited in the queue its wait."""
    out: Counter[Record] = Counter()
    for cancel in cancels:
        point = cancel.point
        serving = PROVIDERS[point] if point in (Point.AT_COMMIT, Point.MID_STREAM) else None
        out[(point.value, 499, 1, "client_closed", serving, int(point is Point.QUEUED))] += 1
    return out


def recorded_attempts(db: Path) -> Counter[tuple[str, str]]:
    rows = query(
        db,
        "SELECT r.chain, a.outcome, count(*) AS n FROM attempts a"
        " JOIN requests r ON r.request_id = a.request_id GROUP BY 1, 2",
    )
    return Counter({(r["chain"], r["outcome"]): r["n"] for r in rows})


def expected_attempts(cancels: list[Cancel]) -> Counter[tuple[str, str]]:
    """One attempt each, the call the client cut short, except for a queued stream: it walked
    the chain only if it found the queue empty or was woken at its head (its one attempt then
    the skip of the exhausted entry), else it waited without walking (no attempt)."""
    return Counter((c.point.value, "client_closed") for c in cancels if c.point is not Point.QUEUED)


def calls_not_left(sim: Simulator) -> list[str]:
    """The providers some of whose calls the proxy has not left (closed) yet."""
    stats = [sim.stats(name) for name in sim.names]
    return [
        f"{s['name']}: {s['requests']} calls, {s['client_disconnects']} left"
        for s in stats
        if s["client_disconnects"] != s["requests"]
    ]


async def polled(check: Callable[[], object], what: str) -> None:
    """Wait (bounded) until `check()` is falsy; the caller then asserts on it, for the diff."""
    with contextlib.suppress(AssertionError):
        await eventually(lambda: not check(), timeout=10, what=what)


# A load: about 20 s of CPU, which coverage's tracer would double for no line the other tests
# do not run (the client-closed paths, the queue, the simulator's counts have tests of their
# own); a machine loaded by other work may still take a few times as long.
@pytest.mark.no_cover
@pytest.mark.timeout(300)
def test_ten_thousand_cancelled_streams_leave_nothing_behind(tmp_path: Path) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(cancel_ten_thousand(tmp_path / "usage.db"))


async def cancel_ten_thousand(db: Path) -> None:
    async with running(db) as (sim, server, clients):
        # Warm-up: a stream cut mid-way spends the queued chain's one request; then each point
        # once by each client, so what is made once, on first use, is in the baseline.
        first = Cancel(Point.QUEUED, 2, sdk=False)
        await clients.stream(first)
        warm_up = [Cancel(p, 2 * (p is Point.MID_STREAM), sdk) for p in Point for sdk in (0, 1)]
        await cancel_all(sim, server, clients, warm_up)
        base = await baseline(server, sim)

        cancels = plan(SEED, STREAMS, SDK_SHARE)
        await cancel_all(sim, server, clients, cancels)

        await settled(server, sim, base)
        await polled(lambda: calls_not_left(sim), "every upstream call left by the proxy")
        assert calls_not_left(sim) == []
        expected = expected_records(warm_up + cancels)
        expected[(Point.QUEUED.value, 499, 1, "client_closed", "held", 0)] += 1
        await polled(lambda: recorded(db) != expected, f"{expected.total()} records stored")
        assert recorded(db) == expected
        attempts = recorded_attempts(db)
        queued_skips = attempts.pop((Point.QUEUED.value, "skipped"))
        assert attempts.pop((Point.QUEUED.value, "client_closed")) == 1  # the first stream
        assert attempts == expected_attempts(warm_up + cancels)
        assert 0 < queued_skips <= expected[(Point.QUEUED.value, 499, 1, "client_closed", None, 1)]
