"""Record factories, a sink that keeps them and a store opener shared by the usage tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from chain429.outcome import Outcome
from chain429.usage.records import AttemptRecord, RequestRecord
from chain429.usage.store import UsageStore

T0 = 1_800_000_000.0


def attempt(
    position: int,
    provider: str,
    outcome: Outcome,
    *,
    model: str = "m",
    status: int | None = None,
    reason: str = "",
    key_label: str | None = "…abcd",
    latency_ms: float = 10.0,
    waited_ms: float | None = None,
) -> AttemptRecord:
    return AttemptRecord(
        position=position,
        provider_id=provider,
        model=model,
        key_label=key_label,
        outcome=outcome,
        status=status,
        latency_ms=latency_ms,
        reason=reason,
        waited_ms=waited_ms,
    )


def served(
    request_id: str,
    *,
    at: float = T0,
    chain: str = "fast",
    provider: str = "groq",
    model: str = "m",
    fallen_from: tuple[str, ...] = (),
    latency_ms: float = 100.0,
    ttft_ms: float | None = None,
    tokens: tuple[int, int] = (10, 20),
    **changes: Any,
) -> RequestRecord:
    """A request served by `provider` after 429s from each of `fallen_from`."""
    tried = tuple(
        attempt(i, p, Outcome.RATE_LIMITED, status=429, reason="rate limited")
        for i, p in enumerate(fallen_from)
    )
    final = attempt(len(tried), provider, Outcome.SERVED, model=model, status=200)
    record = RequestRecord(
        request_id=request_id,
        started_at=at,
        endpoint="/v1/chat/completions",
        chain=chain,
        requested_model=chain,
        provider_id=provider,
        model=model,
        key_label="…abcd",
        status=200,
        streamed=ttft_ms is not None,
        attempts=(*tried, final),
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
        total_tokens=tokens[0] + tokens[1],
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        error_class=None,
        client_closed=False,
    )
    return record._replace(**changes)


def exhausted(request_id: str, *, at: float = T0, chain: str = "fast") -> RequestRecord:
    """A request no entry could serve: a 429 to the client, attributed to no provider."""
    return RequestRecord(
        request_id=request_id,
        started_at=at,
        endpoint="/v1/chat/completions",
        chain=chain,
        requested_model=chain,
        provider_id=None,
        model=None,
        key_label=None,
        status=429,
        streamed=False,
        attempts=(
            attempt(0, "groq", Outcome.SKIPPED, reason="cooling down"),
            attempt(1, "cerebras", Outcome.RATE_LIMITED, status=429, reason="rate limited"),
        ),
        prompt_tokens=None,
        completion_tokens=None,
        total_tokens=None,
        latency_ms=5.0,
        ttft_ms=None,
        error_class="all_exhausted",
        client_closed=False,
    )


class MemorySink:
    """A `UsageSink` that keeps every record in a list."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def submit(self, record: RequestRecord) -> None:
        self.records.append(record)


@asynccontextmanager
async def open_store(path: str | Path) -> AsyncIterator[UsageStore]:
    store = UsageStore(path)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
