from __future__ import annotations

import orjson
import pytest

from chain429.providers.error_body import parse_error_body
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.dialects import format_duration, rate_limit_headers, rate_limited_reply
from chain429.sim.windows import DAY_SECONDS, ProviderWindows

NOW = 1_800_000_000.0  # 08:00:00 UTC, 16 hours before midnight


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.02, "20ms"),
        (0.25, "250ms"),
        (0.9999, "1s"),
        (1, "1s"),
        (7.66, "7.66s"),
        (179.56, "2m59.56s"),
        (360, "6m0s"),
        (3723, "1h2m3s"),
        (3600, "1h0m0s"),
    ],
)
def test_format_duration_matches_the_go_style_of_groq_and_openai(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def used_state(config: SimProviderConfig, requests: int, tokens: int) -> ProviderWindows:
    """Windows after `requests` answered at NOW, costing `tokens` in all."""
    windows = ProviderWindows()
    for _ in range(requests):
        windows.commit(config, NOW, tokens // requests)
    return windows


def test_groq_reports_the_daily_request_count_and_per_minute_tokens() -> None:
    config = SimProviderConfig(
        name="g",
        dialect=Dialect.GROQ,
        requests_per_day=1000,
        requests_per_window=30,
        tokens_per_window=6000,
    )
    windows = used_state(config, 2, 300)
    headers = rate_limit_headers(config, windows.state(config, NOW + 0.44))
    assert headers == {
        "x-ratelimit-limit-requests": "1000",
        "x-ratelimit-remaining-requests": "998",
        "x-ratelimit-reset-requests": "15h59m59.56s",
        "x-ratelimit-limit-tokens": "6000",
        "x-ratelimit-remaining-tokens": "5700",
        "x-ratelimit-reset-tokens": "59.56s",
    }


def test_groq_without_a_daily_cap_reports_the_request_window() -> None:
    config = SimProviderConfig(name="g", dialect=Dialect.GROQ, requests_per_window=30)
    windows = used_state(config, 1, 10)
    headers = rate_limit_headers(config, windows.state(config, NOW))
    assert headers["x-ratelimit-limit-requests"] == "30"
    assert headers["x-ratelimit-reset-requests"] == "1m0s"
    assert "x-ratelimit-limit-tokens" not in headers


def test_openai_reports_per_minute_windows() -> None:
    config = SimProviderConfig(
        name="o",
        dialect=Dialect.OPENAI,
        requests_per_day=1000,
        requests_per_window=500,
        tokens_per_window=30000,
    )
    windows = used_state(config, 1, 100)
    headers = rate_limit_headers(config, windows.state(config, NOW + 59.98))
    assert headers["x-ratelimit-limit-requests"] == "500"
    assert headers["x-ratelimit-remaining-requests"] == "499"
    assert headers["x-ratelimit-reset-requests"] == "20ms"
    assert headers["x-ratelimit-remaining-tokens"] == "29900"


def test_cerebras_names_the_window_and_sends_float_seconds() -> None:
    config = SimProviderConfig(
        name="c", dialect=Dialect.CEREBRAS, requests_per_day=14400, tokens_per_window=60000
    )
    windows = used_state(config, 3, 1500)
    headers = rate_limit_headers(config, windows.state(config, NOW + 10.5))
    assert headers == {
        "x-ratelimit-limit-requests-day": "14400",
        "x-ratelimit-remaining-requests-day": "14397",
        "x-ratelimit-reset-requests-day": f"{16 * 3600 - 10.5:.2f}",
        "x-ratelimit-limit-tokens-minute": "60000",
        "x-ratelimit-remaining-tokens-minute": "58500",
        "x-ratelimit-reset-tokens-minute": "49.50",
    }


def test_openrouter_reports_the_tightest_request_limit_with_a_reset_in_epoch_ms() -> None:
    config = SimProviderConfig(
        name="r", dialect=Dialect.OPENROUTER, requests_per_window=20, requests_per_day=3
    )
    windows = used_state(config, 2, 10)
    headers = rate_limit_headers(config, windows.state(config, NOW))
    midnight = (NOW // DAY_SECONDS + 1) * DAY_SECONDS
    assert headers == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "1",
        "X-RateLimit-Reset": str(int(midnight * 1000)),
    }


def test_none_dialect_sends_no_rate_limit_headers() -> None:
    config = SimProviderConfig(name="n", dialect=Dialect.NONE, requests_per_window=1)
    windows = used_state(config, 1, 10)
    assert rate_limit_headers(config, windows.state(config, NOW)) == {}


def rejected(config: SimProviderConfig, at: float = NOW + 15):
    windows = used_state(config, 1, 10)
    rejection = windows.check(config, at, 10)
    assert rejection is not None
    return rate_limited_reply(config, windows.state(config, at), rejection, "m1")


def test_openai_style_429_has_retry_after_and_a_rate_limit_body() -> None:
    config = SimProviderConfig(name="g", dialect=Dialect.GROQ, requests_per_window=1)
    headers, body = rejected(config)
    assert headers["retry-after"] == "45"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert body["error"]["code"] == "rate_limit_exceeded"
    assert "requests per minute (RPM): Limit 1, Used 1" in body["error"]["message"]
    assert "try again in 45s" in body["error"]["message"]


def test_openrouter_daily_429_names_free_models_per_day() -> None:
    config = SimProviderConfig(name="r", dialect=Dialect.OPENROUTER, requests_per_day=1)
    headers, body = rejected(config)
    assert "free-models-per-day" in body["error"]["message"]
    assert body["error"]["code"] == 429
    assert body["error"]["metadata"]["headers"]["X-RateLimit-Remaining"] == "0"
    assert headers["retry-after"] == str(16 * 3600 - 15)


def test_openrouter_per_minute_429_is_not_the_daily_message() -> None:
    config = SimProviderConfig(name="r", dialect=Dialect.OPENROUTER, requests_per_window=1)
    _, body = rejected(config)
    assert "free-models-per-min" in body["error"]["message"]


def test_none_dialect_429_carries_only_retry_after() -> None:
    config = SimProviderConfig(name="n", dialect=Dialect.NONE, requests_per_window=1)
    headers, _ = rejected(config, NOW + 0.5)
    assert headers == {"retry-after": "60"}


def test_a_bare_429_names_no_time_to_wait_anywhere() -> None:
    config = SimProviderConfig(
        name="n", dialect=Dialect.NONE, retry_after=False, requests_per_window=1
    )
    headers, body = rejected(config, NOW + 30)
    assert headers == {}
    assert body == {
        "error": {
            "message": "Rate limit exceeded. Slow down.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    parsed = parse_error_body(orjson.dumps(body), NOW + 30)
    assert parsed.retry_at is None


def test_a_bare_429_keeps_the_dialect_headers_but_drops_retry_after() -> None:
    config = SimProviderConfig(
        name="g", dialect=Dialect.GROQ, retry_after=False, requests_per_window=1
    )
    headers, _ = rejected(config)
    assert "retry-after" not in headers
    assert headers["x-ratelimit-remaining-requests"] == "0"


def test_gemini_body_carries_retry_delay_instead_of_a_header() -> None:
    config = SimProviderConfig(
        name="n", dialect=Dialect.NONE, gemini_body=True, requests_per_window=1
    )
    headers, body = rejected(config, NOW + 30)
    assert headers == {}
    assert body["error"]["status"] == "RESOURCE_EXHAUSTED"
    retry = [d for d in body["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}]
    quota = body["error"]["details"][0]["violations"][0]["quotaId"]
    assert quota == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
