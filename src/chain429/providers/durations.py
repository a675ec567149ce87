"""Reading numbers and durations out of header values, never raising.

Providers write durations as Go-style strings (`2m59.56s`, `1h2m3s`, `250ms`, `7.66s`), as bare
float seconds (`33011.38`) or as integers. Every parser here returns None for anything it cannot
read, including values so large that they can only be garbage.
"""

from __future__ import annotations

import math
import re

MAX_DURATION_SECONDS = 400 * 86_400.0
"""Longer than any window a provider uses (a month, a year of days): beyond it, a value is junk."""

MAX_COUNT = 10**15
"""Larger than any request or token count a provider reports."""

_NUMBER = re.compile(r"[+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_SIGNED_INTEGER = re.compile(r"[+-]?[0-9]+(?:\.0*)?")
_DURATION = re.compile(r"(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h|d))+")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h|d)")
_UNIT_SECONDS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3_600.0,
    "d": 86_400.0,
}


def parse_number(text: str) -> float | None:
    """A finite, non-negative decimal number (`12`, `33011.38`, `1.5e3`), else None."""
    value = text.strip()
    if len(value) > 64 or not _NUMBER.fullmatch(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def parse_count(text: str) -> int | None:
    """A request or token count. Negative counts (some providers overdraw) read as 0."""
    value = text.strip()
    if value.isascii() and value.isdigit() and len(value) <= 15:
        return int(value)
    if len(value) > 20 or not _SIGNED_INTEGER.fullmatch(value):
        return None
    count = int(value.split(".", 1)[0])
    if count > MAX_COUNT:
        return None
    return max(count, 0)


def parse_duration(text: str) -> float | None:
    """Seconds in a Go-style duration (`1h2m3s`, `250ms`) or a bare number of seconds."""
    value = text.strip().lower()
    if not value or len(value) > 64:
        return None
    if _DURATION.fullmatch(value):
        seconds = sum(
            float(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION_PART.findall(value)
        )
    else:
        number = parse_number(value)
        if number is None:
            return None
        seconds = number
    if not math.isfinite(seconds) or seconds > MAX_DURATION_SECONDS:
        return None
    return seconds


def parse_milliseconds(text: str) -> float | None:
    """Seconds in a bare number of milliseconds (`retry-after-ms: 1500`)."""
    number = parse_number(text)
    if number is None or number / 1000 > MAX_DURATION_SECONDS:
        return None
    return number / 1000
