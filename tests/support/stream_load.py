"""A steady streaming load through the proxy, by the official `openai` SDK: workers that stream
one request after another and note every failed or truncated one, for tests that change the
configuration under load."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import openai
import orjson

from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator

MESSAGES = [{"role": "user", "content": "Say something."}]
PROVIDERS = ("s0", "s1", "s2")
DIALECTS = (Dialect.GROQ, Dialect.OPENAI, Dialect.OPENROUTER)


@asynccontextmanager
async def flaky_simulator() -> AsyncIterator[Simulator]:
    """s0, s1, s2: s0 and s2 fail half of their calls before any content, so walks go on to
    the next entry after an await (a change may come in between); s1 never fails."""
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
