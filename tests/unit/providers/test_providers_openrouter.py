from __future__ import annotations

import orjson

from chain429.config.schema import ProviderConfig, ProviderType
from chain429.limits.metric import Scope, Window
from chain429.providers.error_body import parse_error_body
from chain429.providers.openrouter import OpenRouterAdapter

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
ADAPTER = OpenRouterAdapter()


def test_attribution_headers() -> None:
    provider = ProviderConfig(id="or", type=ProviderType.OPENROUTER, api_key="sk-or-v1-abcdefgh")
    headers = ADAPTER.headers(provider, "sk-or-v1-abcdefgh")
    assert headers["HTTP-Referer"] == "429chain"
    assert headers["X-Title"] == "429chain"
    assert headers["Authorization"] == "Bearer sk-or-v1-abcdefgh"
    custom = provider.model_copy(update={"headers": {"http-referer": "https://example.test"}})
    assert ADAPTER.headers(custom, "k")["http-referer"] == "https://example.test"
    assert "HTTP-Referer" not in ADAPTER.headers(custom, "k")


def test_free_models_per_day_cools_every_free_model_until_utc_midnight() -> None:
    headers = {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1800057600000",
    }
    body = orjson.dumps(
        {"error": {"message": "Rate limit exceeded: free-models-per-day. ", "code": 429}}
    )
    report = ADAPTER.limit_report(headers, parse_error_body(body, NOW), NOW)
    assert report.retry_at == 1_800_057_600.0
    assert (report.reason, report.retry_scope) == ("free-models-per-day", Scope.FREE_MODELS)
    [metric] = report.metrics
    assert (metric.window, metric.scope, metric.reset_at) == (
        Window.DAY,
        Scope.FREE_MODELS,
        1_800_057_600.0,
    )


def test_free_models_per_day_without_a_reset_header_resets_at_utc_midnight() -> None:
    body = orjson.dumps(
        {
            "error": {
                "message": "Rate limit exceeded: free-models-per-day.",
                "metadata": {"headers": {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0"}},
            }
        }
    )
    [metric] = ADAPTER.limit_report({}, parse_error_body(body, NOW), NOW).metrics
    assert (metric.window, metric.remaining, metric.reset_at) == (Window.DAY, 0, 1_800_057_600.0)


def test_free_models_per_minute() -> None:
    headers = {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0"}
    body = b'{"error": {"message": "Rate limit exceeded: free-models-per-min.", "code": 429}}'
    [metric] = ADAPTER.limit_report(headers, parse_error_body(body, NOW), NOW).metrics
    assert (metric.window, metric.scope, metric.reset_at) == (
        Window.MINUTE,
        Scope.FREE_MODELS,
        None,
    )


def test_other_reports_keep_account_scope() -> None:
    headers = {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "19"}
    [metric] = ADAPTER.limit_report(headers, None, NOW).metrics
    assert (metric.window, metric.scope) == (Window.UNKNOWN, Scope.ACCOUNT)
