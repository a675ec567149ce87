from __future__ import annotations

import pytest

from chain429.limits.metric import Window
from chain429.providers.openai import OpenAIAdapter


def test_minute_windows() -> None:
    headers = {"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "499"}
    headers["x-ratelimit-reset-requests"] = "120ms"
    [metric] = OpenAIAdapter().limit_report(headers, None, 100.0).metrics
    assert metric.window is Window.MINUTE
    assert metric.reset_at == pytest.approx(100.12)
