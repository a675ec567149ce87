from __future__ import annotations

from chain429.providers.error_body import parse_error_body
from chain429.providers.generic_openai import GenericOpenAIAdapter
from chain429.providers.nvidia_nim import NvidiaNimAdapter


def test_any_family_and_retry_after() -> None:
    headers = {"x-ratelimit-remaining": "3", "retry-after": "2"}
    error = parse_error_body(b"Too Many Requests", 10.0)
    report = NvidiaNimAdapter().limit_report(headers, error, 10.0)
    assert report.retry_at == 12.0
    assert [m.remaining for m in report.metrics] == [3]


def test_read_like_a_generic_server() -> None:
    headers = {"x-ratelimit-remaining-requests-day": "7", "x-tokenlimit-limit": "100"}
    nim = NvidiaNimAdapter().limit_report(headers, None, 10.0)
    assert nim == GenericOpenAIAdapter().limit_report(headers, None, 10.0)
    assert len(nim.metrics) == 2
