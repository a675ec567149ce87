"""What the client hears when no entry of the chain served its request."""

from __future__ import annotations

import math
from dataclasses import dataclass

from chain429.limits.window import RESET_MARGIN_S
from chain429.openai_errors import ErrorType, error_body
from chain429.outcome import Outcome
from chain429.providers.error_body import UpstreamErrorInfo


@dataclass(frozen=True, slots=True)
class EntryNote:
    """Why one entry did not serve: a safe, human summary (no keys, no URLs)."""

    label: str
    outcome: Outcome
    summary: str
    available_at: float | None
    status: int | None = None
    error: UpstreamErrorInfo | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to a request no entry served, and the error class it is recorded under."""

    status: int
    body: bytes
    retry_after: int | None
    error_class: str


def decide(chain: str, notes: list[EntryNote], now: float) -> Verdict:
    """Every entry rejected the request -> the first rejection; some entry frees up later ->
    429 with Retry-After until the earliest; nothing will ever serve as configured -> 502."""
    rejections = [n for n in notes if n.outcome is Outcome.REJECTED]
    if rejections and len(rejections) == len(notes):
        return _rejection(rejections[0])
    times = [n.available_at for n in notes if n.outcome is not Outcome.REJECTED]
    known = [t for t in times if t is not None]
    listing = "; ".join(f"{n.label}: {n.summary}" for n in notes)
    if known:
        wait = max(1, math.ceil(min(known) - RESET_MARGIN_S - now))
        message = (
            f"No entry of chain '{chain}' can serve this request now; retry in {wait}s. "
            f"Entries: {listing}"
        )
        body = error_body(message, ErrorType.RATE_LIMIT, "rate_limit_exceeded")
        return Verdict(429, body, wait, "all_entries_unavailable")
    if rejections:
        return _rejection(rejections[0])
    message = (
        f"No entry of chain '{chain}' is usable until the configuration changes. Entries: {listing}"
    )
    body = error_body(message, ErrorType.UPSTREAM, "no_usable_entry")
    return Verdict(502, body, None, "no_usable_entry")


def _rejection(note: EntryNote) -> Verdict:
    info = note.error
    message = info.message if info and info.message else "the request was rejected"
    code = info.code if info else None
    body = error_body(
        f"{note.label} rejected the request: {message}", ErrorType.INVALID_REQUEST, code
    )
    return Verdict(note.status or 400, body, None, "rejected")
