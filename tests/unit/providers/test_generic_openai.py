from __future__ import annotations

from chain429.config.schema import ProviderConfig, ProviderType
from chain429.limits.metric import MetricKind, Scope, Window
from chain429.providers.generic_openai import GenericOpenAIAdapter, every_family
from chain429.providers.header_view import HeaderView

NOW = 1_800_000_000.0
ADAPTER = GenericOpenAIAdapter()


def test_configured_base_url_and_unknown_windows() -> None:
    provider = ProviderConfig(
        id="local", type=ProviderType.GENERIC_OPENAI, api_key="k", base_url="http://127.0.0.1:1/v1"
    )
    assert ADAPTER.url(provider, "/models") == "http://127.0.0.1:1/v1/models"
    headers = {"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "1"}
    [metric] = ADAPTER.limit_report(headers, None, 0.0).metrics
    assert metric.window is Window.UNKNOWN


def test_every_family_is_read() -> None:
    headers = {
        "x-ratelimit-limit-requests": "14400",
        "x-ratelimit-remaining-tokens": "5997",
        "x-ratelimit-limit-requests-day": "14400",
        "x-ratelimit-remaining-tokens-minute": "59000",
        "x-tokenlimit-remaining": "5",
    }
    metrics = every_family(HeaderView(headers), NOW)
    assert len(metrics) == 5
    named = [m for m in metrics if m.window is not Window.UNKNOWN]
    assert {m.window for m in named} == {Window.DAY, Window.MINUTE}


def test_together_requests_and_tokens() -> None:
    headers = {
        "x-ratelimit-limit": "10",
        "x-ratelimit-remaining": "9",
        "x-ratelimit-reset": "1",
        "x-tokenlimit-limit": "200000",
        "x-tokenlimit-remaining": "199000",
    }
    metrics = {m.kind: m for m in ADAPTER.limit_report(headers, None, NOW).metrics}
    requests, tokens = metrics[MetricKind.REQUESTS], metrics[MetricKind.TOKENS]
    assert (requests.limit, requests.remaining, requests.reset_at) == (10, 9, NOW + 1)
    assert (tokens.limit, tokens.remaining) == (200000, 199000)
    assert requests.scope is Scope.MODEL
    assert requests.window is Window.UNKNOWN
