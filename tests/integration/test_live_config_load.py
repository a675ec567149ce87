"""200 chain reorders and provider edits, applied live while the simulator serves a steady
streaming load through the proxy to the official `openai` SDK: not one client request fails or
is cut short. Every stream must end with a `finish_reason` and `[DONE]`; many of them start
under one config and end under another."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chain429.config.schema import Config
from chain429.reconfigure import apply_config
from chain429.sim.simulator import Simulator
from chain429.state import STATE
from tests.support.configs import build_config
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY
from tests.support.stream_load import PROVIDERS, Load, flaky_simulator, worker

CHANGES = 200
WORKERS = 6


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with flaky_simulator() as simulator:
        yield simulator


def edited_config(sim: Simulator, rng: random.Random, turn: int) -> Config:
    """A config of the turn: the chain's entries in a new order, sometimes one provider less,
    keys added, rotated and dropped, timeouts, names and manual limits edited, queue mode and
    response normalisation switched."""
    present = [p for p in PROVIDERS if p != "s2" or turn % 3]
    providers = []
    for name in present:
        keys = [f"sk-{name}-key-{turn % 4:04d}-aaaaaaaa", f"sk-{name}-key-spare-bbbbbbbb"]
        provider: dict[str, Any] = {
            "id": name,
            "name": f"{name} (edit {turn})",
            "type": "generic-openai",
            "baseUrl": sim.base_url(name),
            "apiKeys": rng.sample(keys, rng.randint(1, 2)),
            "timeout": rng.choice([5000, 8000, 10000]),
        }
        if rng.random() < 0.3:
            provider["rateLimits"] = {"requestsPerMinute": 100_000}
        providers.append(provider)
    entries = [{"provider": name, "model": "sim-small"} for name in present]
    rng.shuffle(entries)
    chains = {"default": entries}
    if turn % 2:
        chains["spare"] = list(reversed(entries))
    settings = {
        "apiKeys": [CLIENT_KEY],
        "recordUsage": False,
        "queueMode": rng.random() < 0.5,
        "normalizeResponses": rng.random() < 0.5,
        "requestTimeoutMs": rng.choice([10_000, 20_000]),
        "failurePenaltyMs": 0,
    }
    return build_config(providers, chains, **settings)


async def test_200_live_changes_under_a_streaming_load_fail_no_request(
    sim, proxy_factory, client_factory
):
    rng = random.Random(429)
    server = await proxy_factory(edited_config(sim, rng, 0))
    state = server.app[STATE]
    client = client_factory(server, timeout=10.0)
    load = Load()
    workers = [asyncio.ensure_future(worker(client, load)) for _ in range(WORKERS)]
    await eventually(lambda: load.chunks > 0, what="the load is flowing")

    for turn in range(1, CHANGES + 1):
        seen = load.chunks
        apply_config(state, edited_config(sim, rng, turn))
        load.changes = turn
        await eventually(lambda seen=seen: load.chunks > seen, what=f"chunks after change {turn}")
        # Streams finish at the load's own pace: wait for them rather than count on speed, so
        # that every run has as many streams spanning changes, however busy the machine.
        await eventually(
            lambda turn=turn: load.streams >= turn // 2,
            timeout=30,
            what=f"streams by change {turn}",
        )

    load.stop = True
    await asyncio.wait_for(asyncio.gather(*workers), 15)

    assert load.failures == [], load.failures[:5]
    assert load.streams >= CHANGES // 2 and load.spanning >= CHANGES // 4, load
    fell_through = sum(sim.stats(name)["errors_5xx"] for name in ("s0", "s2"))
    assert fell_through >= CHANGES // 20, "walks went on past a failed entry"
    assert all(s.in_flight == 0 and not s.live for _, s in state.tracker.model_states())
