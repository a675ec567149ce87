"""Client load for the scenario benchmark: requests through the official openai SDK.

Each request is tagged (the tag is its message text, so the simulator's trace names it) and
becomes a `Sample`: when it was sent, whether it was served and by whom, how long it took, and,
when it failed, what kind of failure the client saw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import openai

MAX_TOKENS = 16
"""Sent with every request: caps the reply and is what Cerebras reserves up front."""

TRUNCATED = "truncated stream (no finish_reason, no error)"


@dataclass(slots=True)
class Sample:
    """What the client saw for one request. `error` is None when it was served in full."""

    tag: str
    stream: bool
    sent_at: float
    done_at: float = 0.0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    provider: str | None = None
    attempts: int | None = None
    status: int | None = None
    error: str | None = None
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def call(client: openai.AsyncOpenAI, tag: str, *, stream: bool) -> Sample:
    """Send one request and read it to the end; never raises for a failed request."""
    sample = Sample(tag, stream, time.time())
    start = time.perf_counter()
    try:
        if stream:
            await _streamed(client, tag, sample, start)
        else:
            await _whole(client, tag, sample)
    except openai.APIStatusError as exc:
        sample.status = exc.status_code
        sample.error = f"{type(exc).__name__} {exc.status_code}"
        sample.retry_after = exc.response.headers.get("retry-after")
        sample.attempts = _int(exc.response.headers.get("x-429chain-attempts"))
    except openai.APIConnectionError as exc:
        sample.error = type(exc).__name__
    except openai.APIError as exc:
        sample.error = f"{type(exc).__name__} (mid-stream error event)"
    sample.done_at = time.time()
    sample.latency_ms = (time.perf_counter() - start) * 1000
    return sample


async def _whole(client: openai.AsyncOpenAI, tag: str, sample: Sample) -> None:
    raw = await client.chat.completions.with_raw_response.create(
        model="bench",
        messages=[{"role": "user", "content": tag}],
        max_tokens=MAX_TOKENS,
    )
    _note_headers(sample, raw.status_code, raw.headers)
    completion = raw.parse()
    choice = completion.choices[0] if completion.choices else None
    if choice is None or not choice.message.content or choice.finish_reason is None:
        sample.error = "incomplete body"


async def _streamed(client: openai.AsyncOpenAI, tag: str, sample: Sample, start: float) -> None:
    raw = await client.chat.completions.with_raw_response.create(
        model="bench",
        messages=[{"role": "user", "content": tag}],
        max_tokens=MAX_TOKENS,
        stream=True,
    )
    _note_headers(sample, raw.status_code, raw.headers)
    finished = False
    async with raw.parse() as stream:
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content and sample.ttft_ms is None:
                    sample.ttft_ms = (time.perf_counter() - start) * 1000
                if choice.finish_reason is not None:
                    finished = True
    if not finished:
        sample.error = TRUNCATED


def _note_headers(sample: Sample, status: int, headers: Mapping[str, str]) -> None:
    sample.status = status
    served_by = headers.get("x-429chain-provider")
    sample.provider = served_by.partition("/")[0] if served_by else None
    sample.attempts = _int(headers.get("x-429chain-attempts"))


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def is_streamed(index: int, every: int = 2) -> bool:
    """The mix: every `every`-th request streams (every=2: half of them)."""
    return every > 0 and index % every == 1


async def steady(
    client: openai.AsyncOpenAI,
    prefix: str,
    *,
    rate: float,
    duration_s: float,
    stream_every: int = 2,
) -> list[Sample]:
    """`rate` requests per second for `duration_s`, sent on schedule whatever the answers."""
    count = max(1, round(rate * duration_s))
    start = time.perf_counter()

    async def scheduled(index: int) -> Sample:
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        return await call(client, f"{prefix}-{index:04d}", stream=is_streamed(index, stream_every))

    return await gather(scheduled(i) for i in range(count))


async def burst(
    client: openai.AsyncOpenAI, prefix: str, count: int, *, stream_every: int = 2
) -> list[Sample]:
    """`count` requests at once."""
    return await gather(
        call(client, f"{prefix}-{i:04d}", stream=is_streamed(i, stream_every)) for i in range(count)
    )


async def staggered(
    client: openai.AsyncOpenAI, prefix: str, count: int, gap_s: float, *, stream_every: int = 2
) -> list[Sample]:
    """`count` requests `gap_s` apart, all in flight together (a known arrival order)."""

    async def later(index: int) -> Sample:
        await asyncio.sleep(index * gap_s)
        return await call(client, f"{prefix}-{index:04d}", stream=is_streamed(index, stream_every))

    return await gather(later(i) for i in range(count))


async def sequential(
    client: openai.AsyncOpenAI, prefix: str, count: int, *, stream_every: int = 2
) -> list[Sample]:
    """`count` requests one after the other."""
    return [
        await call(client, f"{prefix}-{i:04d}", stream=is_streamed(i, stream_every))
        for i in range(count)
    ]


async def gather(calls: Iterable[Coroutine[Any, Any, Sample]]) -> list[Sample]:
    """Run `calls` together; results in the order given."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(c) for c in calls]
    return [t.result() for t in tasks]
