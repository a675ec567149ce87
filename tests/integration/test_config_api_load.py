"""200 chain reorders and provider edits made through the management API's HTTP write routes
(each with the `If-Match` of the answer before) while the simulator serves a steady streaming
load through the proxy to the official `openai` SDK: every write is saved and applied, and not
one client request fails or is cut short."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from chain429.sim.simulator import Simulator
from tests.support.config_file import api, start_file_proxy
from tests.support.polling import eventually
from tests.support.proxy import ADMIN_KEY, CLIENT_KEY
from tests.support.stream_load import PROVIDERS, Load, flaky_simulator, worker

CHANGES = 200
WORKERS = 6


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with flaky_simulator() as simulator:
        yield simulator


def write_config(path: Path, sim: Simulator) -> None:
    providers = [
        {
            "id": name,
            "type": "generic-openai",
            "apiKey": f"sk-{name}-key-0000-aaaaaaaa",
            "baseUrl": sim.base_url(name),
        }
        for name in PROVIDERS
    ]
    document = {
        "version": 1,
        "settings": {
            "apiKeys": [CLIENT_KEY],
            "adminKeys": [ADMIN_KEY],
            "defaultChain": "default",
            "recordUsage": False,
            "requestTimeoutMs": 20_000,
            "failurePenaltyMs": 0,
        },
        "providers": providers,
        "chains": [
            {
                "name": "default",
                "entries": [{"provider": p, "model": "sim-small"} for p in PROVIDERS],
            }
        ],
    }
    path.write_bytes(orjson.dumps(document))


def edit(sim: Simulator, rng: random.Random, turn: int) -> tuple[str, str, dict]:
    """The turn's write: a reorder of the default chain, or a provider edit (keys left out)."""
    if turn % 2:
        entries = [{"provider": p, "model": "sim-small"} for p in rng.sample(PROVIDERS, 3)]
        return "PUT", "/api/chains/default", {"entries": entries}
    name = rng.choice(PROVIDERS)
    provider = {
        "type": "generic-openai",
        "name": f"{name} (edit {turn})",
        "baseUrl": sim.base_url(name),
        "timeout": rng.choice([5000, 8000, 10000]),
    }
    if rng.random() < 0.3:
        provider["rateLimits"] = {"requestsPerMinute": 100_000}
    return "PUT", f"/api/providers/{name}", provider


async def test_200_api_writes_under_a_streaming_load_fail_no_request(
    sim, proxy_factory, client_factory, http, tmp_path
):
    path = tmp_path / "429chain.yaml"
    write_config(path, sim)
    server = await start_file_proxy(proxy_factory, path)
    client = client_factory(server, timeout=10.0)
    rng = random.Random(429)
    load = Load()
    workers = [asyncio.ensure_future(worker(client, load)) for _ in range(WORKERS)]
    etag = (await api(http, server, "GET", "/api/config")).headers["ETag"]
    started = time.monotonic()
    await eventually(lambda: load.chunks > 0, what="the load is flowing")

    write_times = []
    for turn in range(1, CHANGES + 1):
        seen = load.chunks
        method, route, body = edit(sim, rng, turn)
        sent = time.monotonic()
        answer = await api(http, server, method, route, body, if_match=etag)
        write_times.append(time.monotonic() - sent)
        assert answer.status == 200, (turn, answer.body)
        etag = answer.headers["ETag"]
        load.changes = turn
        await eventually(lambda seen=seen: load.chunks > seen, what=f"chunks after write {turn}")
        # Streams finish at the load's own pace: wait for them rather than count on speed, so
        # that every run has as many streams spanning changes, however busy the machine.
        await eventually(
            lambda turn=turn: load.streams >= turn // 2, timeout=30, what=f"streams by write {turn}"
        )

    load.stop = True
    await asyncio.wait_for(asyncio.gather(*workers), 15)
    elapsed = time.monotonic() - started

    assert load.failures == [], load.failures[:5]
    assert load.streams >= CHANGES // 2 and load.spanning >= CHANGES // 4, load
    assert "sk-s0-key-0000-aaaaaaaa" in path.read_text(), "keys left out were kept"
    write_times.sort()
    print(
        f"\n{CHANGES} API writes under load: {load.streams} streams ({load.spanning} spanning a "
        f"write), {load.chunks} chunks, 0 failures, {elapsed:.1f}s; write latency median "
        f"{write_times[len(write_times) // 2] * 1000:.1f} ms, max {write_times[-1] * 1000:.1f} ms"
    )
