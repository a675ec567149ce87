"""200 chain reorders and provider edits, applied live while the simulator serves a steady
streaming load through the proxy to the official `openai` SDK: not one client request fails or
is cut short. Every stream must end with a `finish_reason` and `[DONE]`; many of them start
under one config and end under another."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import openai
import orjson
import pytest

from chain429.config.schema import Config
from chain429.reconfigure import apply_config
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from chain429.state import STATE
from tests.support.configs import build_config
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY

CHANGES = 200
WORKERS = 6
PROVIDERS = ("s0", "s1", "s2")
MESSAGES = [{"role": "user", "content": "Say something."}]
DIALECTS = (Dialect.GROQ, Dialect.OPENAI, Dialect.OPENROUTER)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    # s0 and s2 fail half of their calls before any content, so walks go on to the next
    # entry after an await (a change may come in between); s1, in every config, never fails.
    providers = [
        SimProviderConfig(
            name=name,
            dialect=dialect,
            reply_words=12,
            inter_chunk_ms=1.0,
            error_rate=0.0 if name == "s1" else 0.5,
            error_status=503,
            seed=index,
        )
        for index, (name, dialect) in enumerate(zip(PROVIDERS, DIALECTS, strict=True))
    ]
    async with Simulator(providers) as simulator:
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


@dataclass
class Load:
    """What the clients saw: finished streams, failures, and how many spanned a change."""

    changes: int = 0
    chunks: int = 0
    streams: int = 0
    spanning: int = 0
    failures: list[str] = field(default_factory=list)
    stop: bool = False


async def one_stream(client: openai.AsyncOpenAI, load: Load) -> None:
    first_change = load.changes
    request = client.chat.completions.with_streaming_response.create(
        model="default", messages=MESSAGES, stream=True
    )
    async with request as response:
        data = []
        async for line in response.iter_lines():
            if line.startswith("data: "):
                data.append(line.removeprefix("data: "))
                load.chunks += 1
    chunks = [orjson.loads(d) for d in data if d != "[DONE]"]
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c.get("choices")]
    if response.status_code != 200 or not data or data[-1] != "[DONE]":
        load.failures.append(f"status {response.status_code}, last event {data[-1:]}")
    elif not finishes or finishes[-1] not in ("stop", "length"):
        load.failures.append(f"no finish_reason: {chunks[-1:]}")
    elif any("error" in c for c in chunks):
        load.failures.append(f"an error event: {chunks}")
    load.streams += 1
    load.spanning += load.changes > first_change


async def worker(client: openai.AsyncOpenAI, load: Load) -> None:
    while not load.stop:
        try:
            await one_stream(client, load)
        except openai.OpenAIError as exc:
            load.failures.append(repr(exc))


async def test_200_live_changes_under_a_streaming_load_fail_no_request(
    sim, proxy_factory, client_factory
):
    rng = random.Random(429)
    server = await proxy_factory(edited_config(sim, rng, 0))
    state = server.app[STATE]
    client = client_factory(server, timeout=10.0)
    load = Load()
    workers = [asyncio.ensure_future(worker(client, load)) for _ in range(WORKERS)]
    started = time.monotonic()
    await eventually(lambda: load.chunks > 0, what="the load is flowing")

    for turn in range(1, CHANGES + 1):
        seen = load.chunks
        apply_config(state, edited_config(sim, rng, turn))
        load.changes = turn
        await eventually(lambda seen=seen: load.chunks > seen, what=f"chunks after change {turn}")

    load.stop = True
    await asyncio.wait_for(asyncio.gather(*workers), 15)
    elapsed = time.monotonic() - started

    assert load.failures == [], load.failures[:5]
    assert load.streams >= CHANGES // 2 and load.spanning >= CHANGES // 4, load
    fell_through = sum(sim.stats(name)["errors_5xx"] for name in ("s0", "s2"))
    assert fell_through >= CHANGES // 20, "walks went on past a failed entry"
    assert all(s.in_flight == 0 and not s.live for _, s in state.tracker.model_states())
    assert elapsed < 20, f"{elapsed:.1f}s"
