"""One rate-limit window of one entry: what is left, what is reserved, when it refills.

A window is fed by the provider's headers (`observe`), by manual limits (a local window that
rolls forward on its own), and by the local count of requests and tokens spent between two
header updates. `headroom` never counts a reservation as free: `remaining - in_flight`.

A window whose reset has passed is refilled to the limit it knew: an assumption, which the
provider's next answer replaces whatever it says (the limit may have changed meanwhile). Only
between two answers of the same window does the lower figure win.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chain429.limits.metric import Metric, MetricKind, RawHeaders, Source, Window

#: A reset time this close to the one we hold belongs to the same window (headers carry
#: durations that drift by the time they take to arrive).
SAME_WINDOW_SLACK_S = 2.0
#: How long a window that reported nothing left, but no reset time, is assumed to stay empty
#: (a 429 with its own retry time cools the entry down for longer when it must).
UNKNOWN_RESET_S = 60.0

#: Added to resets a provider gave relative to its taking the request (the request's way there).
#: The client's Retry-After leaves it out: it names the provider's own time.
RESET_MARGIN_S = 0.1

NextReset = Callable[[float], float]


@dataclass(slots=True)
class WindowState:
    """A requests or tokens counter over one window."""

    kind: MetricKind
    window: Window
    limit: int | None
    remaining: int | None
    reset_at: float | None
    source: Source
    updated_at: float
    in_flight: int = 0
    next_reset: NextReset | None = None
    raw: RawHeaders = ()
    assumed: bool = False
    """`remaining` is a refill to the known limit, not yet confirmed by an answer."""

    def refresh(self, now: float) -> None:
        """Refill a window whose reset time has passed. The next reset is the local window's own,
        or for a provider's window its nominal length from now, until headers say better."""
        if self.reset_at is None or now < self.reset_at:
            return
        self.remaining = self.limit
        self.assumed = True
        self.reset_at = (
            self.next_reset(now)
            if self.next_reset is not None
            else now + (self.window.seconds or UNKNOWN_RESET_S)
        )
        self.updated_at = now

    def start(self, now: float) -> None:
        """A local window opens with its first request."""
        if self.reset_at is None and self.next_reset is not None:
            self.reset_at = self.next_reset(now)

    def headroom(self) -> int | None:
        """What may still be admitted: None when the window says nothing about it."""
        if self.remaining is None:
            return None
        return self.remaining - self.in_flight

    def observe(self, metric: Metric, now: float) -> None:
        """Take a provider's report. Within one window, `remaining` only goes down (responses
        arrive out of order); a later reset time means a new window and is taken as it is, and
        so is the first report after a refill (a measurement beats an assumption)."""
        new_window = (
            self.assumed
            or self.reset_at is None
            or metric.reset_at is None
            or metric.reset_at > self.reset_at + SAME_WINDOW_SLACK_S
            or self.source is not Source.HEADER
        )
        if metric.limit is not None:
            self.limit = metric.limit
        if metric.remaining is not None:
            if new_window or self.remaining is None:
                self.remaining = metric.remaining
            else:
                self.remaining = min(self.remaining, metric.remaining)
            self.assumed = False
        reset_at = metric.reset_at
        if reset_at is None and self.remaining is not None and self.remaining <= 0:
            reset_at = now + UNKNOWN_RESET_S
        if reset_at is not None:
            self.reset_at = reset_at
        self.source = metric.source
        self.updated_at = now
        self.raw = metric.raw

    def spend(self, amount: int) -> None:
        """Count usage that no header reported (between two header updates)."""
        if self.remaining is not None:
            self.remaining = max(0, self.remaining - amount)


def header_window(metric: Metric, now: float) -> WindowState:
    state = WindowState(
        kind=metric.kind,
        window=metric.window,
        limit=None,
        remaining=None,
        reset_at=None,
        source=metric.source,
        updated_at=now,
    )
    state.observe(metric, now)
    return state
