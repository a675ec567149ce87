from __future__ import annotations

import orjson
import pytest

from chain429.config.schema import ProviderConfig, ProviderType
from chain429.limits.metric import Scope, Window
from chain429.providers.error_body import parse_error_body
from chain429.providers.openrouter import (
    FREE_MODELS_PER_DAY,
    FREE_MODELS_PER_MINUTE,
    OpenRouterAdapter,
    embedded_headers,
    free_models_hint,
    with_upstream_words,
)
from chain429.providers.retry_hints import PER_MINUTE, RetryHint

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
NEXT_UTC_MIDNIGHT = 1_800_057_600.0
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


@pytest.mark.parametrize(
    "reset", ["1800000060000", "1800000060", "60"], ids=["epoch-ms", "epoch-s", "delta"]
)
def test_account_wide_headers_reset_read_defensively(reset: str) -> None:
    headers = {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    [metric] = ADAPTER.limit_report(headers, None, NOW).metrics
    assert (metric.limit, metric.remaining, metric.reset_at) == (20, 0, NOW + 60)
    assert metric.scope is Scope.ACCOUNT
    assert metric.window is Window.UNKNOWN


def test_free_models_per_day_hint_waits_for_utc_midnight() -> None:
    message = "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 per day"
    hint = free_models_hint(RetryHint(NOW + 5, PER_MINUTE), message, NOW)
    assert hint == RetryHint(NEXT_UTC_MIDNIGHT, FREE_MODELS_PER_DAY, Scope.FREE_MODELS)
    assert free_models_hint(RetryHint(), message, None).retry_at is None


def test_free_models_per_minute_hint_keeps_the_delay() -> None:
    hint = free_models_hint(RetryHint(NOW + 5), "Rate limit exceeded: free-models-per-min.", NOW)
    assert hint == RetryHint(NOW + 5, FREE_MODELS_PER_MINUTE, Scope.FREE_MODELS)


def test_other_messages_leave_the_hint_alone() -> None:
    hint = RetryHint(NOW + 5, PER_MINUTE)
    assert free_models_hint(hint, "Rate limit exceeded", NOW) is hint


def test_upstream_words_follow_the_message_once() -> None:
    error = {"metadata": {"raw": "upstream says no"}}
    assert with_upstream_words("Provider returned error", error) == (
        "Provider returned error: upstream says no"
    )
    assert with_upstream_words("", error) == "upstream says no"
    assert with_upstream_words("upstream says no", error) == "upstream says no"
    assert with_upstream_words("m", {"metadata": {"raw": 5}}) == "m"
    assert with_upstream_words("m", {"metadata": "x"}) == "m"


def test_embedded_headers_are_lower_cased_scalars() -> None:
    error = {"metadata": {"headers": {"X-RateLimit-Limit": 20, "X-Flag": True, "X-List": [1]}}}
    assert embedded_headers(error) == (("x-ratelimit-limit", "20"),)
    assert embedded_headers({"metadata": {"headers": "x"}}) == ()
    many = {"metadata": {"headers": {f"h{i}": "1" for i in range(40)}}}
    assert len(embedded_headers(many)) == 32
