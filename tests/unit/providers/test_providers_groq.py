from __future__ import annotations

import pytest

from chain429.limits.metric import MetricKind, Window
from chain429.providers.groq import GroqAdapter

NOW = 1_800_000_000.0


def test_groq_429() -> None:
    headers = {
        "x-ratelimit-limit-requests": "1000",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1h2m3s",
        "retry-after": "3723",
    }
    report = GroqAdapter().limit_report(headers, None, NOW)
    [metric] = report.metrics
    assert (metric.kind, metric.window, metric.remaining) == (MetricKind.REQUESTS, Window.DAY, 0)
    assert metric.reset_at == pytest.approx(NOW + 3723)
    assert report.retry_at == NOW + 3723
