"""The `x-ratelimit-*` header families that several providers share, read into metrics.

A family names each metric with three headers (limit, remaining, reset). Providers differ in
the suffixes they use, the window each metric counts, how the reset is written and whom the
limit covers; each provider's module says which family it sends (PROVIDERS.md), the reading
is done here once. Values that do not parse are skipped (the `HeaderView` records them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from chain429.limits.metric import Metric, MetricKind, Scope, Source, Window
from chain429.providers.durations import parse_count, parse_duration
from chain429.providers.header_view import HeaderView
from chain429.providers.instants import parse_reset_instant

ResetParser = Callable[[str], float | None]

_NAMED_WINDOWS: Mapping[str, Window] = {
    "second": Window.SECOND,
    "minute": Window.MINUTE,
    "hour": Window.HOUR,
    "day": Window.DAY,
    "month": Window.MONTH,
}
_SUFFIX_KINDS: Mapping[str, MetricKind] = {
    "requests": MetricKind.REQUESTS,
    "req": MetricKind.REQUESTS,
    "tokens": MetricKind.TOKENS,
}


def reset_after(now: float) -> ResetParser:
    """Reads a reset written as a duration (`2m59.56s`, `33011.38`): the instant it ends."""

    def parse(value: str) -> float | None:
        seconds = parse_duration(value)
        return None if seconds is None else now + seconds

    return parse


def reset_instant(now: float) -> ResetParser:
    """Reads a reset whose unit is not trusted: epoch milliseconds, epoch seconds or a delta."""
    return lambda value: parse_reset_instant(value, now)


def header_names(suffix: str, prefix: str = "x-ratelimit") -> tuple[str, str, str]:
    """The (limit, remaining, reset) names of one metric: `x-ratelimit-limit{suffix}`, ..."""
    return f"{prefix}-limit{suffix}", f"{prefix}-remaining{suffix}", f"{prefix}-reset{suffix}"


def limit_metric(
    headers: HeaderView,
    names: tuple[str, str, str],
    kind: MetricKind,
    window: Window,
    reset: ResetParser,
    scope: Scope = Scope.MODEL,
) -> list[Metric]:
    """The metric in headers `names` (limit, remaining, reset): [] when neither count is there."""
    limit_name, remaining_name, reset_name = names
    limit = headers.read(limit_name, parse_count)
    remaining = headers.read(remaining_name, parse_count)
    reset_at = headers.read(reset_name, reset)
    if limit is None and remaining is None:
        return []
    raw = headers.raw(*names)
    return [Metric(kind, window, limit, remaining, reset_at, Source.HEADER, scope, raw)]


def openai_family(
    headers: HeaderView, requests: Window, tokens: Window, now: float
) -> list[Metric]:
    """`x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as durations (`6m0s`,
    `20ms`). The names do not say the window: the provider's module does."""
    reset = reset_after(now)
    return [
        *limit_metric(headers, header_names("-requests"), MetricKind.REQUESTS, requests, reset),
        *limit_metric(headers, header_names("-tokens"), MetricKind.TOKENS, tokens, reset),
    ]


#: Every (names, kind, window) that `windowed_family` looks for, built once.
_WINDOWED_NAMES: Final = tuple(
    (header_names(f"-{kind_name}-{window_name}"), kind, window)
    for kind_name, kind in _SUFFIX_KINDS.items()
    for window_name, window in _NAMED_WINDOWS.items()
)


def windowed_family(headers: HeaderView, now: float) -> list[Metric]:
    """Names ending in their window: `x-ratelimit-limit-requests-day`, `...-tokens-minute`,
    `...-req-minute`, `...-tokens-month`; resets in float seconds or durations."""
    reset = reset_after(now)
    metrics: list[Metric] = []
    for names, kind, window in _WINDOWED_NAMES:
        if names[0] in headers or names[1] in headers:
            metrics += limit_metric(headers, names, kind, window, reset)
    return metrics
