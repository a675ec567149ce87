from __future__ import annotations

from chain429.config.schema import ProviderConfig, ProviderType
from chain429.limits.metric import Window
from chain429.providers.generic_openai import GenericOpenAIAdapter


def test_configured_base_url_and_unknown_windows() -> None:
    adapter = GenericOpenAIAdapter()
    provider = ProviderConfig(
        id="local", type=ProviderType.GENERIC_OPENAI, api_key="k", base_url="http://127.0.0.1:1/v1"
    )
    assert adapter.url(provider, "/models") == "http://127.0.0.1:1/v1/models"
    headers = {"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "1"}
    [metric] = adapter.limit_report(headers, None, 0.0).metrics
    assert metric.window is Window.UNKNOWN
