"""Limits learned from what happens, for entries whose answers say nothing about limits.

Some providers send no rate-limit headers: they refuse (a 429 with at best a retry delay, in a
`retry-after` or in the body) and that is all. For such an entry (no header window, no manual
limit, no key-wide window that applies), the tracker counts the requests served since the
first one of a window, until the first 429. The window's length is the time from that first
request to the retry time the 429 named, else to when the provider served again (the first
request after the cooldown that it served): never shorter than the provider's own window, so
a learned window does not end before the provider's does. The learned limit becomes a local
window of that length (source `learned`), admitted against like a manual one and saved with
the limit state. A count that runs longer than `MAX_PERIOD_S` without a 429 starts over.

It is let go when the provider refuses below it (a 429 while the window's count, even with
every request still in flight served, stays under it: the limit went down, or the windows are
not aligned), and counting starts again with the next request served; or when the provider
serves beyond it: after `RAISE_CHECK_WINDOWS` windows used up, the next one lets one request
more through, and when that one is served the limit was raised and counting goes on from that
window (when it is refused, the limit stands).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from chain429.limits.metric import MetricKind, Source, Window
from chain429.limits.window import RESET_MARGIN_S, NextReset, WindowState

LEARNED_KEY = (MetricKind.REQUESTS, Window.UNKNOWN)
"""Where an entry's learned window is kept among its windows (no header window shares it:
learning stops when one appears)."""
#: Windows longer than this are not learned (a daily cap is the cooldown's business).
MAX_PERIOD_S = 3600.0
#: Every this many learned windows used up, the next one lets one request more through.
RAISE_CHECK_WINDOWS = 10
#: Slack when telling whether a request was admitted in the current window (float sums).
_SAME_TIME_S = 1e-6

Windows = MutableMapping[Any, WindowState]


@dataclass(slots=True)
class Learning:
    """What an entry without limit headers has shown of its limit so far.

    While nothing is learned: `start` is when the counted window began (the admission of its
    first request that was served), `served` how many requests admitted since were served, and
    `refused_at` when the 429 that ended the count arrived (until the provider serves again).
    Once learned: `limit` requests per `period_s`, `served` counts the current window's, and
    `full_windows` the windows used up since the last check for a raise (`trial`)."""

    start: float | None = None
    served: int = 0
    refused_at: float | None = None
    limit: int | None = None
    period_s: float | None = None
    full_windows: int = 0
    trial: bool = False


def learns(windows: Windows, key_windows: bool) -> bool:
    """Whether an entry learns its limit: none of its windows comes from anywhere else and no
    key-wide window applies to it."""
    if key_windows:
        return False
    return all(w.source is Source.LEARNED for w in windows.values())


def forget(learning: Learning, windows: Windows) -> None:
    """Drop what was learned and counted (the entry's answers say more now)."""
    window = windows.get(LEARNED_KEY)
    if window is not None and window.source is Source.LEARNED:
        del windows[LEARNED_KEY]
    _restart(learning)


def served(
    learning: Learning, windows: Windows, admitted_at: float, now: float, in_flight: int
) -> None:
    """A request admitted at `admitted_at` was served; `in_flight` others are still out."""
    window = windows.get(LEARNED_KEY)
    if window is not None:
        _served_within(learning, window, windows, admitted_at)
        return
    if learning.refused_at is not None and learning.start is not None:
        if admitted_at < learning.refused_at:
            learning.served += 1  # sent before the 429 came back: the same window
            return
        limit, span = learning.served, now - learning.start
        _learn(learning, windows, limit, span, admitted_at, now, counted=1, held=in_flight)
        return
    if learning.start is None or admitted_at - learning.start > MAX_PERIOD_S:
        learning.start, learning.served = admitted_at, 0
    learning.served += 1


def refused(
    learning: Learning,
    windows: Windows,
    admitted_at: float,
    retry_at: float | None,
    now: float,
    in_flight: int,
) -> None:
    """A request admitted at `admitted_at` got a 429 naming `retry_at` (if any); `in_flight`
    others are still out."""
    window = windows.get(LEARNED_KEY)
    if window is not None:
        limit = _current(learning, window, admitted_at)
        if limit is None:
            return
        if learning.trial and learning.served >= limit:
            learning.trial = False  # one past the limit was refused: the limit stands
            window.limit, window.remaining = limit, 0
            return
        if learning.served + in_flight < limit:
            forget(learning, windows)  # refused below the limit: count again from scratch
        return
    if learning.refused_at is not None or learning.start is None:
        return  # a 429 of the same window, or of a count that has not begun
    if retry_at is None:
        learning.refused_at = now
        return
    count, start = learning.served, learning.start
    _learn(learning, windows, count, retry_at - start, start, now, counted=count)


def _served_within(
    learning: Learning, window: WindowState, windows: Windows, admitted_at: float
) -> None:
    limit = _current(learning, window, admitted_at)
    if limit is None:
        return
    learning.served += 1
    if learning.served > limit:  # served beyond the limit: it was raised
        count, opened = learning.served, learning.start
        forget(learning, windows)
        learning.start, learning.served = opened, count
        return
    if learning.served < limit or learning.trial:
        return
    learning.full_windows += 1
    if learning.full_windows >= RAISE_CHECK_WINDOWS:
        learning.full_windows = 0
        learning.trial = True
        window.limit = limit + 1
        window.remaining = (window.remaining or 0) + 1


def _current(learning: Learning, window: WindowState, admitted_at: float) -> int | None:
    """The learned limit, when a request admitted at `admitted_at` counts in `window` as it is
    now (the count moves on to a window that opened since); None for a request of an earlier
    window, or before the window's first request."""
    limit, period = learning.limit, learning.period_s
    if limit is None or period is None or window.reset_at is None:
        return None
    opened = window.reset_at - period
    if admitted_at < opened - _SAME_TIME_S:
        return None
    if learning.start is None or opened > learning.start + _SAME_TIME_S:
        learning.start, learning.served = opened, 0
    return limit


def _learn(
    learning: Learning,
    windows: Windows,
    limit: int,
    span_s: float,
    opened: float,
    now: float,
    *,
    counted: int,
    held: int = 0,
) -> None:
    """Set the learned window: `limit` per `span_s` (plus a margin), the current one opened at
    `opened` with `counted` requests served in it and `held` more still out."""
    if not 0 < span_s <= MAX_PERIOD_S:
        _restart(learning)
        return
    period = span_s + RESET_MARGIN_S
    windows[LEARNED_KEY] = WindowState(
        kind=MetricKind.REQUESTS,
        window=Window.UNKNOWN,
        limit=limit,
        remaining=max(0, limit - counted - held),
        reset_at=opened + period,
        source=Source.LEARNED,
        updated_at=now,
        next_reset=every(period),
    )
    learning.limit, learning.period_s = limit, period
    learning.start, learning.served = opened, counted
    learning.refused_at = None
    learning.full_windows, learning.trial = 0, False


def _restart(learning: Learning) -> None:
    learning.start, learning.served, learning.refused_at = None, 0, None
    learning.limit, learning.period_s = None, None
    learning.full_windows, learning.trial = 0, False


def every(period_s: float) -> NextReset:
    """A learned window's next reset: one period after it opens."""
    return lambda now: now + period_s


def to_data(learning: Learning) -> dict[str, Any] | None:
    """What a snapshot keeps of a learned limit (its current window is saved as any window)."""
    if learning.limit is None or learning.period_s is None:
        return None
    return {"limit": learning.limit, "periodS": learning.period_s}


def restore(learning: Learning, windows: Windows, data: Any, now: float) -> bool:
    """Bring back a learned limit saved by `to_data`, with its window as restored when it was
    still live, else a fresh one that opens with its next request. When `data` is not one
    (None, or not what `to_data` writes), a learned window restored without it is dropped and
    False returned."""
    saved = _saved(data)
    if saved is None:
        forget(learning, windows)
        return False
    limit, period = saved
    _restart(learning)
    learning.limit, learning.period_s = limit, period
    window = windows.get(LEARNED_KEY)
    if window is None or window.source is not Source.LEARNED:
        windows[LEARNED_KEY] = WindowState(
            kind=MetricKind.REQUESTS,
            window=Window.UNKNOWN,
            limit=limit,
            remaining=limit,
            reset_at=None,
            source=Source.LEARNED,
            updated_at=now,
            next_reset=every(period),
        )
        return True
    window.next_reset = every(period)
    window.limit = limit
    if window.remaining is not None and window.reset_at is not None:
        window.remaining = min(window.remaining, limit)
        learning.start = window.reset_at - period
        learning.served = limit - window.remaining
    return True


def _saved(data: Any) -> tuple[int, float] | None:
    """(limit, period) as `to_data` wrote them, None for anything else."""
    if not isinstance(data, dict):
        return None
    limit, period = data.get("limit"), data.get("periodS")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
        return None
    if not isinstance(period, int | float) or isinstance(period, bool):
        return None
    if not 0 < period <= MAX_PERIOD_S + RESET_MARGIN_S:
        return None
    return limit, float(period)
