"""Query parameters of the statistics API, parsed strictly: a bad value is a 400 naming it.

Times are accepted as epoch milliseconds or ISO 8601 (a time without a zone is UTC) and
returned as epoch seconds, the unit the usage tables use.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, TypeVar

from chain429.errors import Chain429Error
from chain429.usage.series import BucketSize, TimeRange, bucket_count

E = TypeVar("E", bound=StrEnum)

MAX_BUCKETS: Final = 1_440
_STATUS_CLASS: Final = re.compile(r"^([1-5])xx$")
_INTEGER: Final = re.compile(r"^\+?\d{1,18}$")


class ParamError(Chain429Error):
    """A query parameter is missing its point: `param` names it, the message says why."""

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        super().__init__(message)


def parse_limit(value: str | None, *, default: int, maximum: int) -> int:
    """A positive integer up to `maximum`, `default` when absent."""
    if value is None:
        return default
    if not _INTEGER.match(value.strip()) or int(value) < 1:
        raise ParamError("limit", f"limit must be a positive integer, got '{value[:40]}'")
    if int(value) > maximum:
        raise ParamError("limit", f"limit must be at most {maximum}, got {int(value)}")
    return int(value)


def parse_cursor(value: str | None) -> tuple[float, int] | None:
    """A `nextCursor` value handed back: `<started_at>:<id>`."""
    if value is None or value == "":
        return None
    at, _, row_id = value.partition(":")
    try:
        when = float(at)
    except ValueError:
        when = math.nan
    if not math.isfinite(when) or not _INTEGER.match(row_id):
        raise ParamError("cursor", "cursor must be a value returned as nextCursor")
    return when, int(row_id)


def parse_time(value: str | None, param: str) -> float | None:
    """Epoch milliseconds or ISO 8601 to epoch seconds; None when absent."""
    if value is None or value == "":
        return None
    try:
        millis = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(millis) or millis < 0:
            raise ParamError(param, f"{param} must be a time, got '{value[:40]}'")
        return millis / 1000
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ParamError(
            param, f"{param} must be epoch milliseconds or ISO 8601, got '{value[:40]}'"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_bounds(query: Mapping[str, str]) -> tuple[float | None, float | None]:
    """`from` and `to` as given (None when absent); both given, `from` must come first."""
    start = parse_time(query.get("from"), "from")
    end = parse_time(query.get("to"), "to")
    if start is not None and end is not None:
        _check_order(start, end)
    return start, end


def parse_range(query: Mapping[str, str], now: float, default_span: float) -> TimeRange:
    """`from`/`to`, defaulting to the `default_span` seconds up to now."""
    start, end = parse_bounds(query)
    end = now if end is None else end
    start = end - default_span if start is None else start
    _check_order(start, end)
    return TimeRange(start, end)


def _check_order(start: float, end: float) -> None:
    if start >= end:
        raise ParamError("from", "from must be earlier than to")


def parse_choice(value: str | None, choices: type[E], param: str, default: E) -> E:
    if value is None or value == "":
        return default
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise ParamError(param, f"{param} must be one of {allowed}, got '{value[:40]}'") from None


def check_bucket_count(when: TimeRange, bucket: BucketSize) -> None:
    """A series holds at most `MAX_BUCKETS` points per group; the error names a bucket size
    that fits the range, if one does."""
    count = bucket_count(when, bucket)
    if count <= MAX_BUCKETS:
        return
    fitting = [
        size
        for size in BucketSize
        if size.seconds > bucket.seconds and bucket_count(when, size) <= MAX_BUCKETS
    ]
    advice = (
        f"use bucket={fitting[0].value} or a shorter range" if fitting else "use a shorter range"
    )
    raise ParamError(
        "bucket",
        f"the range holds {count} {bucket.value} buckets, more than the {MAX_BUCKETS} a series "
        f"may return per group; {advice}",
    )


def parse_status(value: str | None) -> tuple[int, int] | None:
    """`429`, `4xx`, `error` (400 and up) or `success` (below 400) as an inclusive range."""
    if value is None or value == "":
        return None
    if value == "error":
        return (400, 599)
    if value == "success":
        return (100, 399)
    match = _STATUS_CLASS.match(value)
    if match:
        hundred = int(match.group(1)) * 100
        return (hundred, hundred + 99)
    if _INTEGER.match(value) and 100 <= int(value) <= 599:
        return (int(value), int(value))
    raise ParamError("status", "status must be a code (429), a class (4xx), error or success")
