"""The records the router hands to usage: one per answered request, with its attempts.

Records are named tuples: immutable like a frozen dataclass (every sink, the request events and
the writer's thread share one), but built in one step. A frozen dataclass sets each field
through `object.__setattr__`, which made building the 19 fields of a request record cost about
2.5 times as many instructions. Change one with `record._replace(...)`.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from chain429.outcome import Outcome


class AttemptRecord(NamedTuple):
    """One chain entry considered for a request: skipped, failed, or served. `waited_ms` is the
    time it waited for the answer of the entry's probes first (None when it did not wait)."""

    position: int
    provider_id: str
    model: str
    key_label: str | None
    outcome: Outcome
    status: int | None
    latency_ms: float
    reason: str
    waited_ms: float | None = None


class RequestRecord(NamedTuple):
    """One request the proxy answered, whatever the answer was.

    `provider_id`, `model` and `key_label` name the entry that served it, or are None when no
    entry did (a failed request is attributed to no provider, not to the last one tried).
    `queued_ms` is the time it waited in a queue (queue mode), None when it never waited;
    `latency_ms` includes it.
    """

    request_id: str
    started_at: float
    endpoint: str
    chain: str
    requested_model: str
    provider_id: str | None
    model: str | None
    key_label: str | None
    status: int
    streamed: bool
    attempts: tuple[AttemptRecord, ...]
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    latency_ms: float
    ttft_ms: float | None
    error_class: str | None
    client_closed: bool
    queued_ms: float | None = None


class UsageSink(Protocol):
    """Where finished request records go. `submit` must never block or raise."""

    def submit(self, record: RequestRecord) -> None: ...


class DiscardingSink:
    """A sink that keeps nothing (recording turned off)."""

    def submit(self, record: RequestRecord) -> None:
        return None
