"""When to retry, and which quota ran out, as told by an error message rather than headers.

Phrases that every provider may use, such as Groq's "Please try again in 12m41.376s", GitHub's
"Please wait 40000 seconds before retrying" or a quota named per day or per minute. What one
provider's bodies say in their own shape is read in that provider's module (Gemini's RetryInfo
in `google_ai`, OpenRouter's free-model caps in `openrouter`); `error_body` applies them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chain429.limits.metric import Scope
from chain429.providers.durations import MAX_DURATION_SECONDS, parse_duration, parse_number

PER_DAY = "per-day quota"
PER_HOUR = "per-hour quota"
PER_MINUTE = "per-minute quota"

_DELAY_PHRASE = re.compile(
    r"(?:(?:try again|retry|retrying)\s+(?:in|after)|wait(?:\s+for)?)\s+"
    r"(?P<amount>[0-9][0-9a-zµ.]{0,30}?)\.?"
    r"(?:\s*(?P<unit>milliseconds?|ms|seconds?|secs?|minutes?|mins?|hours?|hrs?)\b|(?=[\s,;)]|$))",
    re.IGNORECASE,
)
_PERIODS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (PER_DAY, re.compile(r"per[ -]day|perday|byday|\bdaily\b|\b[rt]pd\b|per 86400", re.I)),
    (PER_HOUR, re.compile(r"per[ -]hour|perhour|byhour|\b[rt]ph\b|per 3600s", re.I)),
    (PER_MINUTE, re.compile(r"per[ -]minute|perminute|byminute|\b[rt]pm\b|per 60s", re.I)),
)


@dataclass(frozen=True, slots=True)
class RetryHint:
    """A retry time (epoch seconds) and the quota it concerns, either possibly unknown."""

    retry_at: float | None = None
    reason: str | None = None
    scope: Scope = Scope.MODEL


def quota_period(text: str) -> str | None:
    """PER_DAY, PER_HOUR or PER_MINUTE when `text` names that kind of quota."""
    for reason, pattern in _PERIODS:
        if pattern.search(text):
            return reason
    return None


def _unit_seconds(unit: str) -> float:
    word = unit.lower()
    if word == "ms" or word.startswith("milli"):
        return 0.001
    return {"s": 1.0, "m": 60.0, "h": 3_600.0}[word[0]]


def delay_in_message(message: str) -> float | None:
    """Seconds from a phrase such as "try again in 2m59.56s" or "retry after 20 seconds"."""
    for match in _DELAY_PHRASE.finditer(message):
        amount, unit = match.group("amount").rstrip("."), match.group("unit")
        if unit is None:
            seconds = parse_duration(amount)
        else:
            number = parse_number(amount)
            seconds = None if number is None else number * _unit_seconds(unit)
        if seconds is not None and seconds <= MAX_DURATION_SECONDS:
            return seconds
    return None


def message_hint(message: str, now: float | None) -> RetryHint:
    """What an error message says in words: a delay ("try again in 2m59.56s") and the kind of
    quota (per day, hour, minute). Without `now` only the reason can be known (every retry
    time is relative to the present)."""
    reason = quota_period(message)
    if now is None:
        return RetryHint(None, reason)
    delay = delay_in_message(message)
    return RetryHint(None if delay is None else now + delay, reason)
