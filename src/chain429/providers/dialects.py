"""Rate-limit header dialects: one parser per family of headers described in PROVIDERS.md.

Each parser takes any mapping of headers (names in any case) and the current time, and returns
the metrics it found. Values it cannot read are skipped, never raised; `parse_limit_headers`
gathers them, with rate-limit headers no parser knew, into `LimitReport.raw_unparsed`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Final

from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Source, Window
from chain429.providers.durations import parse_count, parse_duration
from chain429.providers.header_view import HeaderView
from chain429.providers.ietf import parse_ietf, parse_retry_after
from chain429.providers.instants import parse_reset_instant

Parser = Callable[[Mapping[str, str], float], list[Metric]]
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


class Dialect(StrEnum):
    """Which rate-limit headers a provider sends. `retry-after`, `retry-after-ms` and the IETF
    draft are read whatever the dialect, so GENERIC means "only those"."""

    OPENAI = "openai"
    GROQ = "groq"
    CEREBRAS = "cerebras"
    OPENROUTER = "openrouter"
    MISTRAL = "mistral"
    GITHUB_MODELS = "github-models"
    TOGETHER = "together"
    AUTO = "auto"
    GENERIC = "generic"


def _after(now: float) -> ResetParser:
    """Reads a duration and returns the instant it ends."""

    def parse(value: str) -> float | None:
        seconds = parse_duration(value)
        return None if seconds is None else now + seconds

    return parse


def _instant(now: float) -> ResetParser:
    return lambda value: parse_reset_instant(value, now)


def _metric(
    view: HeaderView,
    names: tuple[str, str, str],
    kind: MetricKind,
    window: Window,
    reset: ResetParser,
    scope: Scope = Scope.MODEL,
) -> list[Metric]:
    """The metric in headers `names` (limit, remaining, reset): [] when neither count is there."""
    limit_name, remaining_name, reset_name = names
    limit = view.read(limit_name, parse_count)
    remaining = view.read(remaining_name, parse_count)
    reset_at = view.read(reset_name, reset)
    if limit is None and remaining is None:
        return []
    return [
        Metric(kind, window, limit, remaining, reset_at, Source.HEADER, scope, view.raw(*names))
    ]


def _openai_names(view: HeaderView, requests: Window, tokens: Window, now: float) -> list[Metric]:
    """`x-ratelimit-{limit,remaining,reset}-{requests,tokens}` with duration resets."""
    reset = _after(now)
    return [
        *_metric(view, _names("-requests"), MetricKind.REQUESTS, requests, reset),
        *_metric(view, _names("-tokens"), MetricKind.TOKENS, tokens, reset),
    ]


def _names(suffix: str, prefix: str = "x-ratelimit") -> tuple[str, str, str]:
    return f"{prefix}-limit{suffix}", f"{prefix}-remaining{suffix}", f"{prefix}-reset{suffix}"


#: Every (limit, remaining, reset) name triple `parse_windowed` looks for, built once.
_WINDOWED_NAMES: Final = tuple(
    (_names(f"-{kind_name}-{window_name}"), kind, window)
    for kind_name, kind in _SUFFIX_KINDS.items()
    for window_name, window in _NAMED_WINDOWS.items()
)


def parse_openai(headers: Mapping[str, str], now: float) -> list[Metric]:
    """OpenAI and its imitators: requests and tokens per minute, resets like `6m0s`, `20ms`."""
    return _openai_names(HeaderView.of(headers), Window.MINUTE, Window.MINUTE, now)


def parse_groq(headers: Mapping[str, str], now: float) -> list[Metric]:
    """Groq: OpenAI's names, but `-requests` counts per DAY and `-tokens` per MINUTE."""
    return _openai_names(HeaderView.of(headers), Window.DAY, Window.MINUTE, now)


def parse_github_models(headers: Mapping[str, str], now: float) -> list[Metric]:
    """GitHub Models: OpenAI's names without a stated window (the 429's `x-ratelimit-type`
    names the limit that was hit; `parse_limit_headers` reports it as the reason)."""
    return _openai_names(HeaderView.of(headers), Window.UNKNOWN, Window.UNKNOWN, now)


def parse_windowed(headers: Mapping[str, str], now: float) -> list[Metric]:
    """Names ending in their window: `x-ratelimit-limit-requests-day`, `...-tokens-minute`,
    `...-req-minute`, `...-tokens-month`; resets in float seconds or durations."""
    view = HeaderView.of(headers)
    reset = _after(now)
    metrics: list[Metric] = []
    for names, kind, window in _WINDOWED_NAMES:
        if names[0] in view or names[1] in view:
            metrics += _metric(view, names, kind, window, reset)
    return metrics


def parse_cerebras(headers: Mapping[str, str], now: float) -> list[Metric]:
    """Cerebras: windowed names, resets in float seconds (`33011.38`)."""
    return parse_windowed(headers, now)


def parse_mistral(headers: Mapping[str, str], now: float) -> list[Metric]:
    """Mistral: tokens per minute and per month, some models requests per minute (`-req-`)."""
    return parse_windowed(headers, now)


def parse_openrouter(headers: Mapping[str, str], now: float) -> list[Metric]:
    """OpenRouter: account-wide `X-RateLimit-{Limit,Remaining,Reset}`, reset in epoch
    milliseconds (read defensively: epoch seconds or a delta are accepted too)."""
    view = HeaderView.of(headers)
    return _metric(
        view, _names(""), MetricKind.REQUESTS, Window.UNKNOWN, _instant(now), Scope.ACCOUNT
    )


def parse_together(headers: Mapping[str, str], now: float) -> list[Metric]:
    """Together (unverified): `x-ratelimit-*` for requests and `x-tokenlimit-*` for tokens."""
    view = HeaderView.of(headers)
    reset = _instant(now)
    return [
        *_metric(view, _names(""), MetricKind.REQUESTS, Window.UNKNOWN, reset),
        *_metric(view, _names("", "x-tokenlimit"), MetricKind.TOKENS, Window.UNKNOWN, reset),
    ]


def parse_auto(headers: Mapping[str, str], now: float) -> list[Metric]:
    """For servers of unknown dialect: every `x-ratelimit` family, windows only where named."""
    view = HeaderView.of(headers)
    return [
        *parse_github_models(view, now),
        *parse_windowed(view, now),
        *parse_together(view, now),
    ]


def parse_generic(headers: Mapping[str, str], now: float) -> list[Metric]:
    """No dialect-specific headers (Google AI Studio): the generic ones are read anyway."""
    return []


DIALECT_PARSERS: Mapping[Dialect, Parser] = {
    Dialect.OPENAI: parse_openai,
    Dialect.GROQ: parse_groq,
    Dialect.CEREBRAS: parse_cerebras,
    Dialect.OPENROUTER: parse_openrouter,
    Dialect.MISTRAL: parse_mistral,
    Dialect.GITHUB_MODELS: parse_github_models,
    Dialect.TOGETHER: parse_together,
    Dialect.AUTO: parse_auto,
    Dialect.GENERIC: parse_generic,
}


def parse_limit_headers(dialect: Dialect, headers: Mapping[str, str], now: float) -> LimitReport:
    """Everything the headers of one response say about limits, read in `dialect` plus the
    generic headers. `reason` is GitHub's `x-ratelimit-type` when sent."""
    view = HeaderView(headers)
    if not view:
        return LimitReport()
    metrics = [*DIALECT_PARSERS[dialect](view, now), *parse_ietf(view, now)]
    retry_at = parse_retry_after(view, now)
    reason = view.text("x-ratelimit-type")
    return LimitReport(
        metrics=tuple(metrics),
        retry_at=retry_at,
        reason=reason,
        raw_unparsed=view.malformed + view.unread,
    )
