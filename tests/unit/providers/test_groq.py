from __future__ import annotations

import pytest

from chain429.limits.metric import MetricKind, Window
from chain429.providers.groq import GroqAdapter

NOW = 1_800_000_000.0
ADAPTER = GroqAdapter()


def test_requests_per_day_tokens_per_minute() -> None:
    headers = {
        "x-ratelimit-limit-requests": "14400",
        "x-ratelimit-remaining-requests": "14370",
        "x-ratelimit-reset-requests": "2m59.56s",
        "x-ratelimit-limit-tokens": "6000",
        "x-ratelimit-remaining-tokens": "5997",
        "x-ratelimit-reset-tokens": "7.66s",
    }
    windows = {m.kind: m.window for m in ADAPTER.limit_report(headers, None, NOW).metrics}
    assert windows == {MetricKind.REQUESTS: Window.DAY, MetricKind.TOKENS: Window.MINUTE}


def test_groq_429() -> None:
    headers = {
        "x-ratelimit-limit-requests": "1000",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1h2m3s",
        "retry-after": "3723",
    }
    report = ADAPTER.limit_report(headers, None, NOW)
    [metric] = report.metrics
    assert (metric.kind, metric.window, metric.remaining) == (MetricKind.REQUESTS, Window.DAY, 0)
    assert metric.reset_at == pytest.approx(NOW + 3723)
    assert report.retry_at == NOW + 3723
