"""What the client hears when no entry of the chain served its request."""

from __future__ import annotations

import math
from dataclasses import dataclass

from chain429.limits.window import RESET_MARGIN_S
from chain429.openai_errors import ErrorType, error_body
from chain429.outcome import Outcome
from chain429.providers.error_info import UpstreamErrorInfo


@dataclass(frozen=True, slots=True)
class EntryNote:
    """Why one entry did not serve: a safe, human summary (no keys, no URLs).

    `failing` is true when what holds the entry back is a failure penalty (5xx, timeout,
    connection error, broken answer), not a rate limit, a quota or a concurrency limit.
    `timed`: `available_at` is a time the entry frees up by itself (a window's reset, a
    cooldown's end), so once it has passed the entry may serve again."""

    label: str
    outcome: Outcome
    summary: str
    available_at: float | None
    status: int | None = None
    error: UpstreamErrorInfo | None = None
    failing: bool = False
    timed: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to a request no entry served, and the error class it is recorded under."""

    status: int
    body: bytes
    retry_after: int | None
    error_class: str


def decide(chain: str, notes: list[EntryNote], now: float, *, direct: bool = False) -> Verdict:
    """Every entry rejected the request -> the first rejection; some entry frees up later ->
    429 with Retry-After until the earliest, or 503 when every entry that frees up later is
    only failing; nothing will ever serve as configured -> 502.

    `direct`: the request named one entry (`provider/model`), not a chain."""
    rejections = [n for n in notes if n.outcome is Outcome.REJECTED]
    if rejections and len(rejections) == len(notes):
        return _rejection(rejections[0])
    timed = [n for n in notes if n.outcome is not Outcome.REJECTED and n.available_at is not None]
    listing = "; ".join(f"{n.label}: {n.summary}{_left(n, now)}" for n in notes)
    entries = listing if direct else f"Entries: {listing}"
    if timed:
        wait = min(retry_after_s(n.available_at, now) for n in timed if n.available_at is not None)
        if all(n.failing for n in timed):
            return _failing(chain, direct, wait, entries)
        message = f"{_nothing_serves(chain, direct)}; retry in {wait}s. {entries}"
        body = error_body(message, ErrorType.RATE_LIMIT, "rate_limit_exceeded")
        return Verdict(429, body, wait, "all_entries_unavailable")
    if rejections:
        return _rejection(rejections[0])
    unusable = f"Entry '{chain}' is" if direct else f"No entry of chain '{chain}' is"
    message = f"{unusable} usable until the configuration changes. {entries}"
    body = error_body(message, ErrorType.UPSTREAM, "no_usable_entry")
    return Verdict(502, body, None, "no_usable_entry")


def retry_after_s(available_at: float, now: float) -> int:
    """Whole seconds until `available_at`, rounded up, at least 1: a `Retry-After`. The margin
    added to resets a provider gave relative to its own clock is left out (it names the
    provider's time); rounding to the millisecond first keeps float noise from adding a second.
    """
    return max(1, math.ceil(round(available_at - RESET_MARGIN_S - now, 3)))


def _nothing_serves(chain: str, direct: bool) -> str:
    if direct:
        return f"Entry '{chain}' cannot serve this request now"
    return f"No entry of chain '{chain}' can serve this request now"


def _failing(chain: str, direct: bool, wait: int, entries: str) -> Verdict:
    who = "it is" if direct else "every entry is"
    message = (
        f"{_nothing_serves(chain, direct)}: {who} failing (server errors, timeouts or "
        f"connection errors) and sitting out a short penalty; retry in {wait}s. {entries}"
    )
    body = error_body(message, ErrorType.UPSTREAM, "service_unavailable")
    return Verdict(503, body, wait, "all_entries_failing")


def _left(note: EntryNote, now: float) -> str:
    """When the entry frees up, in the same seconds as `Retry-After` (a rejection says nothing:
    it concerns this request, not the entry)."""
    if note.outcome is Outcome.REJECTED:
        return ""
    if note.available_at is None:
        return ", until the configuration changes"
    return f", free again in {retry_after_s(note.available_at, now)}s"


def _rejection(note: EntryNote) -> Verdict:
    info = note.error
    message = info.message if info and info.message else "the request was rejected"
    code = info.code if info else None
    body = error_body(
        f"{note.label} rejected the request: {message}", ErrorType.INVALID_REQUEST, code
    )
    return Verdict(note.status or 400, body, None, "rejected")
