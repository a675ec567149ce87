"""OpenRouter: attribution headers, account-wide X-RateLimit-*, and the free-model caps.

Its rate-limit headers cover the whole account: `X-RateLimit-{Limit,Remaining,Reset}`, the reset
in epoch milliseconds (*unverified*, so epoch seconds and a delta are read too), documented on
429 responses, not reliably on success. Its error bodies relay the upstream's: the upstream's
own words in `error.metadata.raw`, its rate-limit headers in `error.metadata.headers`. A message
naming `free-models-per-day` means the UTC day's cap on `:free` models is gone;
`free-models-per-min`, their per-minute cap.

`GET /api/v1/key` states a key's limits apart from any request: `data.rate_limit`
(`{"requests": 10, "interval": "10s"}`, the whole account's, where sent) and `data.is_free_tier`
(no credits bought yet): `:free` models allow `FREE_MODELS_PER_MINUTE_LIMIT` requests a minute
and `FREE_TIER_DAILY_LIMIT` a day, `CREDITED_DAILY_LIMIT` once credits were bought
(PROVIDERS.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from chain429.config.schema import ProviderConfig, ProviderType
from chain429.limits.metric import (
    KeyLimit,
    LimitReport,
    Metric,
    MetricKind,
    RawHeaders,
    Scope,
    Window,
)
from chain429.providers.base import ProviderAdapter
from chain429.providers.durations import parse_duration
from chain429.providers.error_info import UpstreamErrorInfo
from chain429.providers.header_families import header_names, limit_metric, reset_instant
from chain429.providers.header_view import HeaderView
from chain429.providers.instants import next_utc_midnight
from chain429.providers.retry_hints import RetryHint

ATTRIBUTION_HEADERS: Mapping[str, str] = {"HTTP-Referer": "429chain", "X-Title": "429chain"}
FREE_MODELS_PER_DAY = "free-models-per-day"
FREE_MODELS_PER_MINUTE = "free-models-per-min"
_FREE_MODEL_WINDOWS: Mapping[str, Window] = {
    FREE_MODELS_PER_DAY: Window.DAY,
    FREE_MODELS_PER_MINUTE: Window.MINUTE,
}
_MAX_EMBEDDED_HEADERS = 32
FREE_MODELS_PER_MINUTE_LIMIT = 20
FREE_TIER_DAILY_LIMIT = 50
CREDITED_DAILY_LIMIT = 1000
_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class OpenRouterAdapter(ProviderAdapter):
    """OpenRouter. A 429 naming `free-models-per-day` or `free-models-per-min` concerns every
    `:free` model of the key, so its metrics get that scope and the window the name states; the
    daily cap resets at 00:00 UTC, which fills in a reset the headers left out."""

    type: ClassVar[ProviderType] = ProviderType.OPENROUTER
    keys_share_org_limits: ClassVar[bool] = True

    def extra_headers(self) -> Mapping[str, str]:
        return ATTRIBUTION_HEADERS

    def header_metrics(self, headers: HeaderView, now: float) -> list[Metric]:
        names = header_names("")
        reset = reset_instant(now)
        return limit_metric(
            headers, names, MetricKind.REQUESTS, Window.UNKNOWN, reset, Scope.ACCOUNT
        )

    def key_info_url(self, provider: ProviderConfig) -> str | None:
        return self.url(provider, "/key")

    def key_limits(self, document: Any) -> tuple[KeyLimit, ...]:
        data = document.get("data") if isinstance(document, Mapping) else None
        if not isinstance(data, Mapping):
            return ()
        limits = []
        account = _account_limit(data.get("rate_limit"))
        if account is not None:
            limits.append(account)
        free_tier = data.get("is_free_tier")
        if isinstance(free_tier, bool):
            daily = FREE_TIER_DAILY_LIMIT if free_tier else CREDITED_DAILY_LIMIT
            limits.append(KeyLimit(Scope.FREE_MODELS, Window.DAY, daily, _DAY_S))
            limits.append(
                KeyLimit(Scope.FREE_MODELS, Window.MINUTE, FREE_MODELS_PER_MINUTE_LIMIT, 60.0)
            )
        return tuple(limits)

    def limit_report(
        self, headers: Mapping[str, str], error: UpstreamErrorInfo | None, now: float
    ) -> LimitReport:
        report = ProviderAdapter.limit_report(self, headers, error, now)
        window = _FREE_MODEL_WINDOWS.get(report.reason or "")
        if window is None:
            return report
        daily_reset = next_utc_midnight(now) if window is Window.DAY else None
        metrics = tuple(
            replace(
                m,
                scope=Scope.FREE_MODELS,
                window=window if m.window is Window.UNKNOWN else m.window,
                reset_at=m.reset_at if m.reset_at is not None else daily_reset,
            )
            if m.scope is Scope.ACCOUNT
            else m
            for m in report.metrics
        )
        return replace(report, metrics=metrics)


def _account_limit(rate_limit: Any) -> KeyLimit | None:
    """`{"requests": 10, "interval": "10s"}` as a limit; None for anything else (a missing
    field, `-1` requests for no limit, an interval that does not read)."""
    if not isinstance(rate_limit, Mapping):
        return None
    requests, interval = rate_limit.get("requests"), rate_limit.get("interval")
    if not isinstance(requests, int) or isinstance(requests, bool) or requests <= 0:
        return None
    seconds = parse_duration(interval) if isinstance(interval, str) else None
    if not seconds:
        return None
    return KeyLimit(Scope.ACCOUNT, Window.from_seconds(seconds), requests, seconds)


def free_models_hint(hint: RetryHint, message: str, now: float | None) -> RetryHint:
    """`hint` corrected by a free-model cap the message names: the daily one waits for the
    next 00:00 UTC whatever else was said; both concern every `:free` model of the key."""
    if FREE_MODELS_PER_DAY in message:
        retry_at = None if now is None else next_utc_midnight(now)
        return RetryHint(retry_at, FREE_MODELS_PER_DAY, Scope.FREE_MODELS)
    if FREE_MODELS_PER_MINUTE in message:
        return replace(hint, reason=FREE_MODELS_PER_MINUTE, scope=Scope.FREE_MODELS)
    return hint


def with_upstream_words(message: str, error: Mapping[str, Any]) -> str:
    """`message` followed by the upstream's own words (`error.metadata.raw`) unless it holds
    them already: "Provider returned error" alone says nothing."""
    metadata = error.get("metadata")
    raw = metadata.get("raw") if isinstance(metadata, Mapping) else None
    if not isinstance(raw, str) or not raw or raw in message:
        return message
    return f"{message}: {raw}" if message else raw


def embedded_headers(error: Mapping[str, Any]) -> RawHeaders:
    """The rate-limit headers relayed in `error.metadata.headers`, names lower-cased."""
    metadata = error.get("metadata")
    headers = metadata.get("headers") if isinstance(metadata, Mapping) else None
    if not isinstance(headers, Mapping):
        return ()
    pairs = [
        (name.lower(), str(value))
        for name, value in headers.items()
        if isinstance(name, str)
        and isinstance(value, str | int | float)
        and not isinstance(value, bool)
    ]
    return tuple(pairs[:_MAX_EMBEDDED_HEADERS])
