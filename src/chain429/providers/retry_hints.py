"""When to retry, and which quota ran out, as told by an error body rather than its headers.

Sources, see PROVIDERS.md: Gemini's `google.rpc.RetryInfo.retryDelay` and `QuotaFailure`
quota ids (a per-day quota resets at midnight Pacific); OpenRouter's `free-models-per-day`
message (the UTC day's cap is gone); and phrases such as Groq's "Please try again in 12m41.376s"
or GitHub's "Please wait 40000 seconds before retrying".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chain429.limits.metric import Scope
from chain429.providers.durations import MAX_DURATION_SECONDS, parse_duration, parse_number
from chain429.providers.instants import next_pacific_midnight, next_utc_midnight

FREE_MODELS_PER_DAY = "free-models-per-day"
FREE_MODELS_PER_MINUTE = "free-models-per-min"
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


def _google_details(details: object) -> tuple[float | None, str | None]:
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


def retry_hint(error: Mapping[str, Any], message: str, now: float | None) -> RetryHint:
    """What an error object and its message say about retrying. Without `now` only the reason
    can be known (every retry time is relative to the present)."""
    if FREE_MODELS_PER_DAY in message:
        retry_at = None if now is None else next_utc_midnight(now)
        return RetryHint(retry_at, FREE_MODELS_PER_DAY, Scope.FREE_MODELS)
    delay, google_period = _google_details(error.get("details"))
    if delay is None:
        delay = delay_in_message(message)
    reason: str | None = google_period or quota_period(message)
    scope = Scope.MODEL
    if FREE_MODELS_PER_MINUTE in message:
        reason, scope = FREE_MODELS_PER_MINUTE, Scope.FREE_MODELS
    if now is None:
        return RetryHint(None, reason, scope)
    retry_at = None if delay is None else now + delay
    if google_period == PER_DAY:
        retry_at = max(retry_at or now, next_pacific_midnight(now))
    return RetryHint(retry_at, reason, scope)
