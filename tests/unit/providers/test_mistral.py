from __future__ import annotations

from chain429.limits.metric import MetricKind, Window
from chain429.providers.mistral import MistralAdapter


def test_month_tokens() -> None:
    headers = {"x-ratelimit-limit-tokens-month": "1000", "x-ratelimit-remaining-tokens-month": "0"}
    [metric] = MistralAdapter().limit_report(headers, None, 0.0).metrics
    assert (metric.window, metric.remaining) == (Window.MONTH, 0)


def test_minute_and_month() -> None:
    headers = {
        "x-ratelimit-limit-tokens-minute": "500000",
        "x-ratelimit-remaining-tokens-minute": "499000",
        "x-ratelimit-limit-tokens-month": "1000000000",
        "x-ratelimit-remaining-tokens-month": "999000000",
        "x-ratelimit-limit-req-minute": "60",
        "x-ratelimit-remaining-req-minute": "59",
    }
    metrics = MistralAdapter().limit_report(headers, None, 0.0).metrics
    found = {(m.kind, m.window): (m.limit, m.remaining) for m in metrics}
    assert found == {
        (MetricKind.TOKENS, Window.MINUTE): (500000, 499000),
        (MetricKind.TOKENS, Window.MONTH): (1000000000, 999000000),
        (MetricKind.REQUESTS, Window.MINUTE): (60, 59),
    }
    assert all(m.reset_at is None for m in metrics)
