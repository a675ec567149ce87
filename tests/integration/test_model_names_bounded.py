"""Client-chosen model names leave nothing behind: memory and `/metrics` stay flat.

`provider/<anything>` addresses one provider directly and, under `strictModels`, any other
unknown name is a 404: a client may send as many distinct names as it likes. The proxy runs as
`429chain serve` in a child process so its resident memory is its own (and without coverage's
collector, which would add to it and triple the run); the names are sent by plain aiohttp (the
SDK is several times slower and adds nothing to what is measured here).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable

import aiohttp

from chain429.limits.snapshot import take_snapshot
from chain429.limits.transient import MAX_TRANSIENT_ENTRIES
from chain429.state import STATE
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.serve_process import ServeProcess, serving
from tests.support.upstream import ok

# Past every bounded table filling up (the resolver caches 4,096 direct chains; half the names
# are direct addresses), then many more names.
WARM_UP = 10_000
NAMES = 25_000
CONCURRENCY = 32
MAX_RSS_GROWTH = 4 * 1024 * 1024
AUTH = {"Authorization": f"Bearer {CLIENT_KEY}"}
_SERIES = re.compile(r"^([^#\s][^\s]*)\s", re.MULTILINE)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def model_name(index: int) -> str:
    """Half the names address the provider directly, half are unknown (404 under strictModels)."""
    return f"up/model-{index}" if index % 2 else f"unknown-model-{index}"


async def send(http: aiohttp.ClientSession, url: str, names: Iterable[int]) -> None:
    pending = iter(names)

    async def worker() -> None:
        for index in pending:
            body = {"model": model_name(index), "messages": [{"role": "user", "content": "hi"}]}
            async with http.post(f"{url}/v1/chat/completions", json=body, headers=AUTH) as reply:
                assert reply.status == (200 if index % 2 else 404), await reply.text()
                await reply.read()

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def metrics(http: aiohttp.ClientSession, proxy: ServeProcess) -> tuple[int, set[str]]:
    async with http.get(f"{proxy.url}/metrics", headers=AUTH) as reply:
        assert reply.status == 200
        text = await reply.text()
    return len(text), set(_SERIES.findall(text))


async def test_distinct_model_names_leave_memory_and_metrics_flat(upstream_factory, http, tmp_path):
    upstream = await upstream_factory(ok())
    upstream.received = _Forgetful()
    upstream.headers_seen = _Forgetful()
    config = make_config([("up", upstream.base_url)], settings={"strictModels": True})
    async with serving(config, tmp_path, coverage=False) as proxy:
        pid = proxy.process.pid
        await send(http, proxy.url, range(1_000))
        size_early, series_early = await metrics(http, proxy)
        await send(http, proxy.url, range(1_000, WARM_UP))
        rss_warm = rss_bytes(pid)
        await send(http, proxy.url, range(WARM_UP, WARM_UP + NAMES))
        rss_end = rss_bytes(pid)
        size_end, series_end = await metrics(http, proxy)

    print(
        f"\nRSS after {WARM_UP} names: {rss_warm / 2**20:.1f} MiB, after {WARM_UP + NAMES}: "
        f"{rss_end / 2**20:.1f} MiB; /metrics after 1000 names: {size_early} bytes, "
        f"{len(series_early)} series; after {WARM_UP + NAMES}: {size_end} bytes, "
        f"{len(series_end)} series"
    )
    assert series_end == series_early
    assert abs(size_end - size_early) < 200  # only the counts' digits may differ
    assert rss_end - rss_warm < MAX_RSS_GROWTH


async def test_the_tracker_keeps_a_bounded_number_of_entries_outside_the_config(
    upstream_factory, proxy_factory, http
):
    upstream = await upstream_factory(ok())
    config = make_config([("up", upstream.base_url)], settings={"strictModels": True})
    server = await proxy_factory(config)
    await send(http, server.url, range(3 * MAX_TRANSIENT_ENTRIES))
    tracker = server.app[STATE].tracker
    assert len(dict(tracker.model_states())) == MAX_TRANSIENT_ENTRIES
    assert tracker.model_state("up", 0, f"model-{3 * MAX_TRANSIENT_ENTRIES - 1}")  # the newest
    await send(http, server.url, [1])  # the oldest direct name comes back: served as before
    snapshot = take_snapshot(tracker, server.app[STATE].clock.now())
    assert len(snapshot["entries"]) <= MAX_TRANSIENT_ENTRIES


class _Forgetful(list[object]):
    """A list that keeps nothing: the fake upstream would otherwise keep every request body."""

    def append(self, item: object) -> None:
        return None
