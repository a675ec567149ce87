"""Manual limits from the config, for providers whose responses say nothing about limits.

Each manual limit is a local window: minute and hour windows start with their first request
and roll forward from there; day windows end at midnight in the provider's time zone (UTC
unless configured; Google AI Studio resets at midnight Pacific).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from chain429.clock import next_midnight
from chain429.config.schema import RateLimits
from chain429.limits.metric import MetricKind, Source, Window
from chain429.limits.window import NextReset, WindowState

_MANUAL_FIELDS = (
    ("requests_per_minute", MetricKind.REQUESTS, Window.MINUTE),
    ("requests_per_hour", MetricKind.REQUESTS, Window.HOUR),
    ("requests_per_day", MetricKind.REQUESTS, Window.DAY),
    ("tokens_per_minute", MetricKind.TOKENS, Window.MINUTE),
    ("tokens_per_day", MetricKind.TOKENS, Window.DAY),
)


def roller(window: Window, zone: ZoneInfo) -> NextReset:
    if window is Window.DAY:
        return lambda now: next_midnight(now, zone)
    length = window.seconds or 60.0
    return lambda now: now + length


def manual_windows(limits: RateLimits | None, zone: ZoneInfo, now: float) -> list[WindowState]:
    """Fresh local windows for every manual limit that is set."""
    if limits is None:
        return []
    windows = []
    for name, kind, window in _MANUAL_FIELDS:
        limit = getattr(limits, name)
        if limit is None:
            continue
        windows.append(
            WindowState(
                kind=kind,
                window=window,
                limit=limit,
                remaining=limit,
                reset_at=None,
                source=Source.MANUAL,
                updated_at=now,
                next_reset=roller(window, zone),
            )
        )
    return windows
