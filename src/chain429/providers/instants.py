"""Reading points in time out of header values, and the day boundaries providers reset on.

Everything returns absolute epoch seconds. Gemini's daily quotas reset at midnight Pacific; the
day boundaries come from `chain429.clock.next_midnight` (the time-zone database).
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from email.utils import parsedate_tz

from chain429.clock import PACIFIC_ZONE, UTC_ZONE, next_midnight
from chain429.providers.durations import MAX_DURATION_SECONDS, parse_number

_EPOCH_MS_FLOOR = 1e11
"""Above this a reset is epoch milliseconds (1e11 ms is 1973; 1e11 s is the year 5138)."""
_EPOCH_S_FLOOR = 1e9
"""Above this (2001) a reset is epoch seconds; below it, seconds from now."""


def parse_http_date(text: str) -> float | None:
    """An HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, RFC 850 or asctime), else None."""
    value = text.strip()
    if not value or len(value) > 64:
        return None
    try:
        parts = parsedate_tz(value)
    except (ValueError, TypeError, IndexError, AttributeError, NameError):
        return None
    if parts is None or not 1970 <= parts[0] <= 9999:
        return None
    try:
        stamp = calendar.timegm(parts[:9])
    except (ValueError, OverflowError):
        return None
    return float(stamp - (parts[9] or 0))


def parse_iso_datetime(text: str) -> float | None:
    """An ISO 8601 date-time (naive means UTC), else None."""
    value = text.strip()
    if len(value) < 10 or len(value) > 40 or not value[:4].isdigit():
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def parse_reset_instant(text: str, now: float) -> float | None:
    """When a window resets, from a value whose unit is not trusted.

    A number is read by its size: epoch milliseconds, epoch seconds, or else seconds from now.
    Anything else may be an HTTP or ISO date. None when nothing fits or the instant is absurd.
    """
    number = parse_number(text)
    if number is None:
        instant = parse_http_date(text) or parse_iso_datetime(text)
    elif number >= _EPOCH_MS_FLOOR:
        instant = number / 1000
    elif number >= _EPOCH_S_FLOOR:
        instant = number
    else:
        instant = now + number
    if instant is None or instant - now > MAX_DURATION_SECONDS:
        return None
    return instant


def next_utc_midnight(now: float) -> float:
    """The next 00:00 UTC strictly after `now`."""
    return next_midnight(now, UTC_ZONE)


def next_pacific_midnight(now: float) -> float:
    """The next 00:00 in US Pacific time strictly after `now`, as epoch seconds."""
    return next_midnight(now, PACIFIC_ZONE)
