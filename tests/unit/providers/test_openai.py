from __future__ import annotations

import pytest

from chain429.limits.metric import MetricKind, Window
from chain429.providers.openai import OpenAIAdapter


def test_minute_windows() -> None:
    headers = {"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "499"}
    headers["x-ratelimit-reset-requests"] = "120ms"
    [metric] = OpenAIAdapter().limit_report(headers, None, 100.0).metrics
    assert metric.window is Window.MINUTE
    assert metric.reset_at == pytest.approx(100.12)


def test_tokens_are_per_minute_too() -> None:
    headers = {"X-RateLimit-Limit-Tokens": "30000", "X-RateLimit-Remaining-Tokens": "0"}
    [metric] = OpenAIAdapter().limit_report(headers, None, 100.0).metrics
    assert (metric.kind, metric.window, metric.remaining) == (MetricKind.TOKENS, Window.MINUTE, 0)
