from __future__ import annotations

from chain429.limits.metric import MetricKind, Window
from chain429.providers.error_body import parse_error_body
from chain429.providers.github_models import GitHubModelsAdapter

NOW = 1_800_000_000.0
ADAPTER = GitHubModelsAdapter()


def test_remaining_only_and_no_stated_window() -> None:
    headers = {"x-ratelimit-remaining-requests": "149", "x-ratelimit-remaining-tokens": "64000"}
    metrics = {m.kind: m for m in ADAPTER.limit_report(headers, None, NOW).metrics}
    assert metrics[MetricKind.REQUESTS].remaining == 149
    assert metrics[MetricKind.REQUESTS].limit is None
    assert metrics[MetricKind.TOKENS].window is Window.UNKNOWN


def test_429_names_the_limit_and_waits() -> None:
    headers = {"x-ratelimit-type": "UserByModelByDay", "retry-after": "43200"}
    report = ADAPTER.limit_report(headers, None, NOW)
    assert report.reason == "UserByModelByDay"
    assert report.retry_at == NOW + 43200


def test_daily_limit_429() -> None:
    headers = {
        "x-ratelimit-type": "UserByModelByDay",
        "retry-after": "40000",
        "x-ratelimit-remaining-requests": "0",
    }
    body = (
        b'{"error": {"code": "RateLimitReached", "message": "Rate limit of 150 per 86400s '
        b'exceeded for UserByModelByDay. Please wait 40000 seconds before retrying."}}'
    )
    report = ADAPTER.limit_report(headers, parse_error_body(body, NOW), NOW)
    assert report.reason == "UserByModelByDay"
    assert report.retry_at == NOW + 40000
    [metric] = report.metrics
    assert metric.remaining == 0
