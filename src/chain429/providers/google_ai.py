"""Google AI Studio (Gemini) through its OpenAI-compatible endpoint.

No rate-limit headers (PROVIDERS.md; Google documents none), so only the headers any server may
send are read. A 429 (`RESOURCE_EXHAUSTED`) says in its body how long to wait (a
`google.rpc.RetryInfo` detail) and which quota ran out (`google.rpc.QuotaFailure` quota ids);
a per-day quota resets at midnight Pacific. Gemma models have no system role, so system
instructions are folded into the first user message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from chain429.config.schema import ProviderType
from chain429.providers.base import ProviderAdapter
from chain429.providers.durations import parse_duration, parse_number
from chain429.providers.instants import next_pacific_midnight
from chain429.providers.retry_hints import PER_DAY, PER_HOUR, PER_MINUTE, RetryHint, quota_period

SYSTEM_ROLES = frozenset({"system", "developer"})


def _text(content: object) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        return "\n".join(p for p in parts if isinstance(p, str) and p)
    return ""


def _prepended(instruction: str, content: object) -> object:
    if isinstance(content, list):
        return [{"type": "text", "text": instruction}, *content]
    if isinstance(content, str) and content:
        return f"{instruction}\n\n{content}"
    return instruction


def fold_system_messages(messages: list[Any]) -> list[Any] | None:
    """`messages` with system (and developer) messages removed and their text put before the
    first user message's content (or in a new user message when there is none); None when
    there is no system message."""
    instructions: list[str] = []
    rest: list[Any] = []
    for message in messages:
        if isinstance(message, dict) and message.get("role") in SYSTEM_ROLES:
            text = _text(message.get("content"))
            if text:
                instructions.append(text)
        else:
            rest.append(message)
    if len(rest) == len(messages):
        return None
    if not instructions:
        return rest
    instruction = "\n\n".join(instructions)
    for index, message in enumerate(rest):
        if isinstance(message, dict) and message.get("role") == "user":
            rest[index] = {**message, "content": _prepended(instruction, message.get("content"))}
            return rest
    return [{"role": "user", "content": instruction}, *rest]


@dataclass(frozen=True, slots=True)
class GoogleAIAdapter(ProviderAdapter):
    """Google AI Studio."""

    type: ClassVar[ProviderType] = ProviderType.GOOGLE_AI

    def prepare(self, body: Mapping[str, Any], model: str) -> dict[str, Any]:
        prepared = {**body, "model": model}
        messages = body.get("messages")
        if "gemma" in model.lower() and isinstance(messages, list):
            folded = fold_system_messages(messages)
            if folded is not None:
                prepared["messages"] = folded
        return prepared


def _retry_delay(detail: Mapping[str, Any]) -> float | None:
    """`retryDelay` as `"30s"`, or in proto-JSON object form `{"seconds": 30, "nanos": 0}`."""
    delay = detail.get("retryDelay")
    if isinstance(delay, str):
        return parse_duration(delay)
    if isinstance(delay, Mapping):
        seconds, nanos = delay.get("seconds", 0), delay.get("nanos", 0)
        if isinstance(seconds, int | float | str) and isinstance(nanos, int | float):
            whole = parse_number(str(seconds))
            return None if whole is None else whole + nanos / 1e9
    return None


def _rpc_details(details: object) -> tuple[float | None, str | None]:
    """(retry delay, quota period) from Google RPC error details."""
    if not isinstance(details, list):
        return None, None
    delay: float | None = None
    periods: set[str] = set()
    for detail in details:
        if not isinstance(detail, Mapping):
            continue
        kind = str(detail.get("@type", ""))
        if kind.endswith("google.rpc.RetryInfo"):
            delay = _retry_delay(detail)
        elif kind.endswith("google.rpc.QuotaFailure"):
            violations = detail.get("violations")
            for violation in violations if isinstance(violations, list) else ():
                if isinstance(violation, Mapping):
                    quota = f"{violation.get('quotaId', '')} {violation.get('quotaMetric', '')}"
                    period = quota_period(quota)
                    if period:
                        periods.add(period)
    for period in (PER_DAY, PER_HOUR, PER_MINUTE):
        if period in periods:
            return delay, period
    return delay, None


def gemini_retry_hint(hint: RetryHint, details: object, now: float | None) -> RetryHint:
    """`hint` (what the message said) corrected by an error's Google RPC `details`: RetryInfo's
    delay wins over one in the message, the QuotaFailure's period over the message's, and a
    per-day quota waits at least until the next midnight Pacific."""
    delay, period = _rpc_details(details)
    retry_at = hint.retry_at if delay is None or now is None else now + delay
    if period == PER_DAY and now is not None:
        retry_at = max(retry_at or now, next_pacific_midnight(now))
    return replace(hint, retry_at=retry_at, reason=period or hint.reason)
