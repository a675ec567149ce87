"""Key-wide limits a provider's key endpoint states (OpenRouter's `GET /api/v1/key`), fed into
a key's state before any request has told them.

Each limit is a local window, like a manual one: it opens with its first request and rolls
forward by its period (a day ends at midnight UTC), and it starts full, an assumption the first
answer's headers replace. Reading the endpoint again changes the limit of a window it made,
never what is left of it (the endpoint says nothing of that), and leaves alone a window that
headers or a 429 body reported: those are the better word.
"""

from __future__ import annotations

from collections.abc import Iterable

from chain429.clock import UTC_ZONE, Clock, next_day_start
from chain429.limits.metric import KeyLimit, MetricKind, Source, Window
from chain429.limits.state import KeyState
from chain429.limits.window import NextReset, WindowState


def feed(key: KeyState, limits: Iterable[KeyLimit], now: float, clock: Clock | None = None) -> int:
    """Apply `limits` to `key`; returns how many windows were made or changed (days found on
    `clock`)."""
    changed = 0
    for limit in limits:
        name = (MetricKind.REQUESTS, limit.window, limit.scope)
        window = key.windows.get(name)
        if window is None:
            key.windows[name] = WindowState(
                kind=MetricKind.REQUESTS,
                window=limit.window,
                limit=limit.limit,
                remaining=limit.limit,
                reset_at=None,
                source=Source.KEY_INFO,
                updated_at=now,
                next_reset=rolling(limit, clock),
            )
        elif window.source is Source.KEY_INFO:
            window.limit = limit.limit
            left = window.remaining
            window.remaining = limit.limit if left is None else min(left, limit.limit)
            window.next_reset = rolling(limit, clock)
            window.updated_at = now
        else:
            continue
        changed += 1
    return changed


def rolling(limit: KeyLimit, clock: Clock | None = None) -> NextReset:
    """When a window of `limit` that opens at some time resets next."""
    if limit.window is Window.DAY:
        return lambda now: next_day_start(now, UTC_ZONE, clock)
    period = limit.period_s
    return lambda now: now + period
