from __future__ import annotations

from chain429.providers.error_body import parse_error_body
from chain429.providers.nvidia_nim import NvidiaNimAdapter


def test_any_family_and_retry_after() -> None:
    headers = {"x-ratelimit-remaining": "3", "retry-after": "2"}
    error = parse_error_body(b"Too Many Requests", 10.0)
    report = NvidiaNimAdapter().limit_report(headers, error, 10.0)
    assert report.retry_at == 12.0
    assert [m.remaining for m in report.metrics] == [3]
