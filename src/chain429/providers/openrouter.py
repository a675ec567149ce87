"""OpenRouter: attribution headers, account-wide X-RateLimit-*, and the free-model daily cap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.limits.metric import LimitReport, Scope, Window
from chain429.providers.base import ProviderAdapter
from chain429.providers.dialects import Dialect
from chain429.providers.error_body import UpstreamErrorInfo
from chain429.providers.instants import next_utc_midnight
from chain429.providers.retry_hints import FREE_MODELS_PER_DAY, FREE_MODELS_PER_MINUTE

ATTRIBUTION_HEADERS: Mapping[str, str] = {"HTTP-Referer": "429chain", "X-Title": "429chain"}
_FREE_MODEL_WINDOWS: Mapping[str, Window] = {
    FREE_MODELS_PER_DAY: Window.DAY,
    FREE_MODELS_PER_MINUTE: Window.MINUTE,
}


@dataclass(frozen=True, slots=True)
class OpenRouterAdapter(ProviderAdapter):
    """OpenRouter. A 429 naming `free-models-per-day` or `free-models-per-min` concerns every
    `:free` model of the key, so its metrics get that scope and the window the name states; the
    daily cap resets at 00:00 UTC, which fills in a reset the headers left out."""

    type: ClassVar[ProviderType] = ProviderType.OPENROUTER
    dialect: ClassVar[Dialect] = Dialect.OPENROUTER
    keys_share_org_limits: ClassVar[bool] = True

    def extra_headers(self) -> Mapping[str, str]:
        return ATTRIBUTION_HEADERS

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
