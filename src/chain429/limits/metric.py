"""What one upstream response tells us about limits: the data `providers` emits for `limits`.

A `Metric` is one counter a provider reported (requests or tokens over a window), a
`LimitReport` is everything one response revealed: its metrics, an explicit time before which a
retry is pointless, and a short reason. All times are absolute epoch seconds, so a report stays
true however long it waits before being applied. A `KeyLimit` is a key-wide limit a provider's
own endpoint states (OpenRouter's `GET /api/v1/key`), read apart from any request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

RawHeaders = tuple[tuple[str, str], ...]
"""(lower-case header name, value) pairs, kept as they arrived."""

_WINDOW_SECONDS: dict[str, float] = {
    "second": 1.0,
    "minute": 60.0,
    "hour": 3_600.0,
    "day": 86_400.0,
    "month": 30 * 86_400.0,
}


class MetricKind(StrEnum):
    REQUESTS = "requests"
    TOKENS = "tokens"


class Window(StrEnum):
    """The period a limit counts over. UNKNOWN when the provider does not say which."""

    SECOND = "second"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    UNKNOWN = "unknown"

    @property
    def seconds(self) -> float | None:
        """The nominal length (a month counts 30 days); None for UNKNOWN."""
        return _WINDOW_SECONDS.get(self.value)

    @classmethod
    def from_seconds(cls, seconds: float) -> Window:
        """The window of exactly that length, else UNKNOWN (a 10 s policy has no name)."""
        for window in cls:
            if window.seconds == seconds:
                return window
        return cls.UNKNOWN


def limit_name(kind: MetricKind, window: Window) -> str:
    """A limit as people read it: "requests per minute", or "request limit" when the provider
    does not say over which period it counts."""
    if window is Window.UNKNOWN:
        return f"{kind.value[:-1]} limit"
    return f"{kind.value} per {window.value}"


class Source(StrEnum):
    """Where a figure came from, most trusted first."""

    HEADER = "header"
    BODY = "body"
    KEY_INFO = "key-info"
    """The provider's key endpoint (OpenRouter's `GET /api/v1/key`)."""
    MANUAL = "manual"
    LEARNED = "learned"


class Scope(StrEnum):
    """Which requests a metric or a retry time applies to, within one provider key.

    MODEL        this key and this model (Groq, Cerebras, OpenAI, Gemini, GitHub Models, ...)
    ACCOUNT      this key, every model (OpenRouter's account-wide X-RateLimit-*)
    FREE_MODELS  this key, every model whose id ends in ":free" (OpenRouter's
                 `free-models-per-day` cap, see PROVIDERS.md)
    """

    MODEL = "model"
    ACCOUNT = "account"
    FREE_MODELS = "free-models"


@dataclass(frozen=True, slots=True)
class Metric:
    """One limit counter as a provider reported it.

    `limit` and `remaining` are None when the provider sent only one of them; `reset_at` is when
    the window refills (epoch seconds), None when unknown.
    """

    kind: MetricKind
    window: Window
    limit: int | None
    remaining: int | None
    reset_at: float | None
    source: Source = Source.HEADER
    scope: Scope = Scope.MODEL
    raw: RawHeaders = ()


#: A move of a report's instants too small to make (`LimitReport.shifted`).
NEGLIGIBLE_SHIFT_S: Final = 0.001


@dataclass(frozen=True, slots=True)
class LimitReport:
    """Everything one response revealed about limits.

    `retry_at` is an explicit "not before" (epoch seconds) from `retry-after`, `retry-after-ms`,
    a body retry delay or a daily-cap rule, applying to `retry_scope`. `reason` is a short label
    such as "free-models-per-day", "per-day quota", "per-minute quota" or a provider's own limit
    type ("UserByModelByDay"). `raw_unparsed` keeps rate-limit headers whose values could not be
    read, for logs and for learning new dialects.
    """

    metrics: tuple[Metric, ...] = ()
    retry_at: float | None = None
    reason: str | None = None
    raw_unparsed: RawHeaders = ()
    retry_scope: Scope = Scope.MODEL

    @property
    def is_empty(self) -> bool:
        return not self.metrics and self.retry_at is None and self.reason is None

    def exhausted(self) -> tuple[Metric, ...]:
        """The metrics with nothing left."""
        return tuple(m for m in self.metrics if m.remaining is not None and m.remaining <= 0)

    def shifted(self, seconds: float) -> LimitReport:
        """This report with every instant in it moved by `seconds`: read against the wall
        clock, put on the steady timeline (`chain429.clock`). Itself when there is nothing to
        move, as in the common case of a wall clock never stepped (the two clocks then differ
        by float noise and the slow slewing of NTP: under a millisecond is not worth a copy)."""
        if abs(seconds) < NEGLIGIBLE_SHIFT_S or self.is_empty:
            return self
        return replace(
            self,
            metrics=tuple(
                m if m.reset_at is None else replace(m, reset_at=m.reset_at + seconds)
                for m in self.metrics
            ),
            retry_at=None if self.retry_at is None else self.retry_at + seconds,
        )


@dataclass(frozen=True, slots=True)
class KeyLimit:
    """A limit on the requests of one key, as the provider's key endpoint states it: `limit`
    requests per `window` (of `period_s` seconds; a day ends at midnight UTC) for the requests
    of `scope` (the whole account, or its `:free` models)."""

    scope: Scope
    window: Window
    limit: int
    period_s: float
