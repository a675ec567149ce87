from __future__ import annotations

from chain429.providers.error_body import parse_error_body
from chain429.providers.github_models import GitHubModelsAdapter

NOW = 1_800_000_000.0


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
    report = GitHubModelsAdapter().limit_report(headers, parse_error_body(body, NOW), NOW)
    assert report.reason == "UserByModelByDay"
    assert report.retry_at == NOW + 40000
    [metric] = report.metrics
    assert metric.remaining == 0
