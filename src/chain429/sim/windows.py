"""Pure window accounting on an injected clock: what a simulated provider has left, and when.

Request and token windows are fixed windows that open at the first use after the previous one
closed (so `reset` is exact); the daily cap is a window aligned to midnight UTC. A rejected request
consumes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from chain429.sim.config import SimProviderConfig

DAY_SECONDS = 86_400.0


class MetricKind(StrEnum):
    REQUESTS = "requests"
    TOKENS = "tokens"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class Metric:
    """One limit as the provider sees it right now."""

    limit: int
    remaining: int
    reset_at: float
    window_seconds: float

    def reset_in(self, now: float) -> float:
        return max(0.0, self.reset_at - now)

    def as_dict(self, now: float) -> dict[str, float | int]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "reset_at": self.reset_at,
            "reset_in": self.reset_in(now),
            "window_seconds": self.window_seconds,
        }


@dataclass(frozen=True, slots=True)
class WindowState:
    """Every configured limit at `now`; `None` for a limit that is not configured."""

    now: float
    requests: Metric | None
    tokens: Metric | None
    day: Metric | None

    def as_dict(self) -> dict[str, dict[str, float | int] | None]:
        return {
            kind.value: None if metric is None else metric.as_dict(self.now)
            for kind, metric in self.metrics()
        }

    def metrics(self) -> tuple[tuple[MetricKind, Metric | None], ...]:
        return (
            (MetricKind.DAY, self.day),
            (MetricKind.REQUESTS, self.requests),
            (MetricKind.TOKENS, self.tokens),
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a request was refused: which limit, its state, and how long until it frees up."""

    kind: MetricKind
    metric: Metric
    requested: int
    retry_after: float


class FixedWindow:
    """Usage counted in one window; `aligned` windows start at multiples of their length."""

    def __init__(self, *, aligned: bool = False) -> None:
        self._aligned = aligned
        self._used = 0
        self._started: float | None = None

    def metric(self, limit: int, length: float, now: float) -> Metric:
        self._roll(length, now)
        start = self._start_for(length, now) if self._started is None else self._started
        return Metric(limit, max(0, limit - self._used), start + length, length)

    def consume(self, amount: int, length: float, now: float) -> None:
        self._roll(length, now)
        if self._started is None:
            self._started = self._start_for(length, now)
        self._used += amount

    def reset(self) -> None:
        self._used = 0
        self._started = None

    def _start_for(self, length: float, now: float) -> float:
        return math.floor(now / length) * length if self._aligned else now

    def _roll(self, length: float, now: float) -> None:
        if self._started is not None and now >= self._started + length:
            self.reset()


class ProviderWindows:
    """The request, token and daily windows of one simulated provider."""

    def __init__(self) -> None:
        self._requests = FixedWindow()
        self._tokens = FixedWindow()
        self._day = FixedWindow(aligned=True)

    def state(self, config: SimProviderConfig, now: float) -> WindowState:
        requests = tokens = day = None
        if config.requests_per_window is not None:
            requests = self._requests.metric(config.requests_per_window, config.window_seconds, now)
        if config.tokens_per_window is not None:
            tokens = self._tokens.metric(config.tokens_per_window, config.token_window_seconds, now)
        if config.requests_per_day is not None:
            day = self._day.metric(config.requests_per_day, DAY_SECONDS, now)
        return WindowState(now, requests, tokens, day)

    def check(self, config: SimProviderConfig, now: float, tokens: int) -> Rejection | None:
        """The limit that refuses one request costing `tokens`, or `None` if all allow it."""
        state = self.state(config, now)
        for kind, metric in state.metrics():
            if metric is None:
                continue
            needed = tokens if kind is MetricKind.TOKENS else 1
            if needed > metric.remaining:
                return Rejection(kind, metric, needed, metric.reset_in(now))
        return None

    def commit(self, config: SimProviderConfig, now: float, tokens: int) -> None:
        """Count one answered request costing `tokens` against every window."""
        self._requests.consume(1, config.window_seconds, now)
        self._tokens.consume(tokens, config.token_window_seconds, now)
        self._day.consume(1, DAY_SECONDS, now)

    def reset(self) -> None:
        self._requests.reset()
        self._tokens.reset()
        self._day.reset()
