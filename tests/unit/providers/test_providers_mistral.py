from __future__ import annotations

from chain429.limits.metric import Window
from chain429.providers.mistral import MistralAdapter


def test_month_tokens() -> None:
    headers = {"x-ratelimit-limit-tokens-month": "1000", "x-ratelimit-remaining-tokens-month": "0"}
    [metric] = MistralAdapter().limit_report(headers, None, 0.0).metrics
    assert (metric.window, metric.remaining) == (Window.MONTH, 0)
