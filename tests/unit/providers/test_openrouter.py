from __future__ import annotations

import orjson
import pytest

from chain429.config.schema import ProviderConfig, ProviderType
from chain429.limits.metric import KeyLimit, Scope, Window
from chain429.providers.error_body import parse_error_body
from chain429.providers.openrouter import (
    CREDITED_DAILY_LIMIT,
    FREE_MODELS_PER_DAY,
    FREE_MODELS_PER_MINUTE,
    FREE_MODELS_PER_MINUTE_LIMIT,
    FREE_TIER_DAILY_LIMIT,
    OpenRouterAdapter,
    embedded_headers,
    free_models_hint,
    with_upstream_words,
)
from chain429.providers.registry import adapter_for
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


def key_document(**data: object) -> dict[str, object]:
    return {"data": {"label": "sk-or-v1-abc...xyz", "usage": 0.5, "limit": None, **data}}


def test_the_key_endpoint_is_under_the_base_url() -> None:
    provider = ProviderConfig(id="or", type=ProviderType.OPENROUTER, api_key="sk-or-v1-abcdefgh")
    assert ADAPTER.key_info_url(provider) == "https://openrouter.ai/api/v1/key"
    local = provider.model_copy(update={"base_url": "http://127.0.0.1:9/or/v1/"})
    assert ADAPTER.key_info_url(local) == "http://127.0.0.1:9/or/v1/key"


def test_the_key_endpoint_states_the_account_limit_and_the_free_model_caps() -> None:
    document = key_document(is_free_tier=True, rate_limit={"requests": 10, "interval": "10s"})
    assert ADAPTER.key_limits(document) == (
        KeyLimit(Scope.ACCOUNT, Window.UNKNOWN, 10, 10.0),
        KeyLimit(Scope.FREE_MODELS, Window.DAY, FREE_TIER_DAILY_LIMIT, 86_400.0),
        KeyLimit(Scope.FREE_MODELS, Window.MINUTE, FREE_MODELS_PER_MINUTE_LIMIT, 60.0),
    )
    assert (FREE_TIER_DAILY_LIMIT, CREDITED_DAILY_LIMIT, FREE_MODELS_PER_MINUTE_LIMIT) == (
        50,
        1000,
        20,
    )


def test_bought_credits_raise_the_free_model_daily_cap() -> None:
    limits = ADAPTER.key_limits(key_document(is_free_tier=False))
    assert [(lim.window, lim.limit) for lim in limits] == [
        (Window.DAY, CREDITED_DAILY_LIMIT),
        (Window.MINUTE, FREE_MODELS_PER_MINUTE_LIMIT),
    ]


def test_a_minute_interval_is_a_minute_window() -> None:
    limits = ADAPTER.key_limits(key_document(rate_limit={"requests": 200, "interval": "1m"}))
    assert limits == (KeyLimit(Scope.ACCOUNT, Window.MINUTE, 200, 60.0),)


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        {"data": None},
        {"data": []},
        key_document(),
        key_document(is_free_tier="yes"),
        key_document(rate_limit={"requests": -1, "interval": "10s"}),
        key_document(rate_limit={"requests": 0, "interval": "10s"}),
        key_document(rate_limit={"requests": True, "interval": "10s"}),
        key_document(rate_limit={"requests": 10.5, "interval": "10s"}),
        key_document(rate_limit={"requests": 10, "interval": "soon"}),
        key_document(rate_limit={"requests": 10, "interval": "0s"}),
        key_document(rate_limit={"requests": 10, "interval": 10}),
        key_document(rate_limit={"requests": 10}),
        key_document(rate_limit="10/10s"),
    ],
)
def test_what_the_key_endpoint_does_not_state_clearly_is_no_limit(document: object) -> None:
    assert ADAPTER.key_limits(document) == ()


def test_other_providers_have_no_key_endpoint() -> None:
    groq = ProviderConfig(id="g", type=ProviderType.GROQ, api_key="gsk-abcdefgh")
    adapter = adapter_for(ProviderType.GROQ)
    assert adapter.key_info_url(groq) is None
    assert adapter.key_limits({"data": {"is_free_tier": True}}) == ()
