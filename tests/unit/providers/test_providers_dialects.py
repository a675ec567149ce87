from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Source, Window
from chain429.providers.dialects import (
    Dialect,
    parse_auto,
    parse_cerebras,
    parse_github_models,
    parse_groq,
    parse_limit_headers,
    parse_mistral,
    parse_openai,
    parse_openrouter,
    parse_together,
)

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC

GROQ_HEADERS = {
    "x-ratelimit-limit-requests": "14400",
    "x-ratelimit-remaining-requests": "14370",
    "x-ratelimit-reset-requests": "2m59.56s",
    "x-ratelimit-limit-tokens": "6000",
    "x-ratelimit-remaining-tokens": "5997",
    "x-ratelimit-reset-tokens": "7.66s",
}
CEREBRAS_HEADERS = {
    "x-ratelimit-limit-requests-day": "14400",
    "x-ratelimit-remaining-requests-day": "14399",
    "x-ratelimit-reset-requests-day": "33011.38",
    "x-ratelimit-limit-tokens-minute": "60000",
    "x-ratelimit-remaining-tokens-minute": "59000",
    "x-ratelimit-reset-tokens-minute": "11.38",
}


def _by_kind(metrics: list[Metric]) -> dict[MetricKind, Metric]:
    return {m.kind: m for m in metrics}


def test_groq_requests_per_day_tokens_per_minute() -> None:
    metrics = _by_kind(parse_groq(GROQ_HEADERS, NOW))
    requests, tokens = metrics[MetricKind.REQUESTS], metrics[MetricKind.TOKENS]
    assert (requests.window, requests.limit, requests.remaining) == (Window.DAY, 14400, 14370)
    assert requests.reset_at == pytest.approx(NOW + 179.56)
    assert (tokens.window, tokens.limit, tokens.remaining) == (Window.MINUTE, 6000, 5997)
    assert tokens.reset_at == pytest.approx(NOW + 7.66)
    assert requests.source is Source.HEADER and requests.scope is Scope.MODEL
    assert requests.raw == (
        ("x-ratelimit-limit-requests", "14400"),
        ("x-ratelimit-remaining-requests", "14370"),
        ("x-ratelimit-reset-requests", "2m59.56s"),
    )


@pytest.mark.parametrize(("reset", "seconds"), [("1h2m3s", 3723), ("250ms", 0.25), ("6m0s", 360)])
def test_groq_duration_resets(reset: str, seconds: float) -> None:
    headers = {**GROQ_HEADERS, "x-ratelimit-reset-tokens": reset}
    tokens = _by_kind(parse_groq(headers, NOW))[MetricKind.TOKENS]
    assert tokens.reset_at == pytest.approx(NOW + seconds)


def test_openai_windows_are_minutes() -> None:
    headers = {**GROQ_HEADERS, "X-RateLimit-Reset-Requests": "20ms"}
    metrics = _by_kind(parse_openai(headers, NOW))
    assert metrics[MetricKind.REQUESTS].window is Window.MINUTE
    assert metrics[MetricKind.REQUESTS].reset_at == pytest.approx(NOW + 0.02)
    assert metrics[MetricKind.TOKENS].window is Window.MINUTE


def test_cerebras_windows_from_names_and_float_seconds() -> None:
    metrics = _by_kind(parse_cerebras(CEREBRAS_HEADERS, NOW))
    requests, tokens = metrics[MetricKind.REQUESTS], metrics[MetricKind.TOKENS]
    assert (requests.window, requests.limit, requests.remaining) == (Window.DAY, 14400, 14399)
    assert requests.reset_at == pytest.approx(NOW + 33011.38)
    assert (tokens.window, tokens.limit, tokens.remaining) == (Window.MINUTE, 60000, 59000)


def test_mistral_minute_and_month() -> None:
    headers = {
        "x-ratelimit-limit-tokens-minute": "500000",
        "x-ratelimit-remaining-tokens-minute": "499000",
        "x-ratelimit-limit-tokens-month": "1000000000",
        "x-ratelimit-remaining-tokens-month": "999000000",
        "x-ratelimit-limit-req-minute": "60",
        "x-ratelimit-remaining-req-minute": "59",
    }
    found = {(m.kind, m.window): (m.limit, m.remaining) for m in parse_mistral(headers, NOW)}
    assert found == {
        (MetricKind.TOKENS, Window.MINUTE): (500000, 499000),
        (MetricKind.TOKENS, Window.MONTH): (1000000000, 999000000),
        (MetricKind.REQUESTS, Window.MINUTE): (60, 59),
    }
    assert all(m.reset_at is None for m in parse_mistral(headers, NOW))


@pytest.mark.parametrize(
    "reset", ["1800000060000", "1800000060", "60"], ids=["epoch-ms", "epoch-s", "delta"]
)
def test_openrouter_reset_read_defensively(reset: str) -> None:
    headers = {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    [metric] = parse_openrouter(headers, NOW)
    assert (metric.limit, metric.remaining, metric.reset_at) == (20, 0, NOW + 60)
    assert metric.scope is Scope.ACCOUNT
    assert metric.window is Window.UNKNOWN


def test_github_models_remaining_only() -> None:
    headers = {"x-ratelimit-remaining-requests": "149", "x-ratelimit-remaining-tokens": "64000"}
    metrics = _by_kind(parse_github_models(headers, NOW))
    assert metrics[MetricKind.REQUESTS].remaining == 149
    assert metrics[MetricKind.REQUESTS].limit is None
    assert metrics[MetricKind.TOKENS].window is Window.UNKNOWN


def test_github_models_429_names_the_limit_and_waits() -> None:
    headers = {"x-ratelimit-type": "UserByModelByDay", "retry-after": "43200"}
    report = parse_limit_headers(Dialect.GITHUB_MODELS, headers, NOW)
    assert report.reason == "UserByModelByDay"
    assert report.retry_at == NOW + 43200


def test_together_requests_and_tokens() -> None:
    headers = {
        "x-ratelimit-limit": "10",
        "x-ratelimit-remaining": "9",
        "x-ratelimit-reset": "1",
        "x-tokenlimit-limit": "200000",
        "x-tokenlimit-remaining": "199000",
    }
    metrics = _by_kind(parse_together(headers, NOW))
    assert metrics[MetricKind.REQUESTS].reset_at == NOW + 1
    assert metrics[MetricKind.TOKENS].limit == 200000
    assert metrics[MetricKind.REQUESTS].scope is Scope.MODEL


def test_auto_reads_every_family() -> None:
    headers = {**GROQ_HEADERS, **CEREBRAS_HEADERS, "x-tokenlimit-remaining": "5"}
    metrics = parse_auto(headers, NOW)
    assert len(metrics) == 5
    named = [m for m in metrics if m.window is not Window.UNKNOWN]
    assert {m.window for m in named} == {Window.DAY, Window.MINUTE}


def test_report_combines_dialect_generic_and_unparsed() -> None:
    headers = {
        **GROQ_HEADERS,
        "x-ratelimit-remaining-tokens": "plenty",
        "x-ratelimit-brand-new": "7",
        "ratelimit-remaining": "3",
        "retry-after": "12",
        "content-type": "application/json",
    }
    report = parse_limit_headers(Dialect.GROQ, headers, NOW)
    assert len(report.metrics) == 3
    assert report.retry_at == NOW + 12
    assert set(report.raw_unparsed) == {
        ("x-ratelimit-remaining-tokens", "plenty"),
        ("x-ratelimit-brand-new", "7"),
    }
    tokens = _by_kind(list(report.metrics))[MetricKind.TOKENS]
    assert (tokens.limit, tokens.remaining) == (6000, None)


def test_generic_dialect_reads_only_generic_headers() -> None:
    report = parse_limit_headers(Dialect.GENERIC, {**GROQ_HEADERS, "retry-after": "30"}, NOW)
    assert report.metrics == ()
    assert report.retry_at == NOW + 30
    assert len(report.raw_unparsed) == len(GROQ_HEADERS)


def test_empty_headers_make_an_empty_report() -> None:
    for dialect in Dialect:
        report = parse_limit_headers(dialect, {}, NOW)
        assert report == LimitReport()
        assert report.is_empty


def test_exhausted_metrics() -> None:
    headers = {**GROQ_HEADERS, "x-ratelimit-remaining-tokens": "-20"}
    report = parse_limit_headers(Dialect.GROQ, headers, NOW)
    [exhausted] = report.exhausted()
    assert exhausted.kind is MetricKind.TOKENS
    assert exhausted.remaining == 0


KNOWN_NAMES = sorted(
    {
        *GROQ_HEADERS,
        *CEREBRAS_HEADERS,
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-tokenlimit-limit",
        "x-ratelimit-type",
        "x-ratelimit-limit-req-minute",
        "ratelimit",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "ratelimit-policy",
        "retry-after",
        "retry-after-ms",
    }
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[0-9.eE+\-hmsµ;,=w\"]{0,25}", fullmatch=True),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
HEADERS = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN_NAMES), st.text(max_size=30)), VALUES, max_size=12
)


@given(st.sampled_from(list(Dialect)), HEADERS, st.floats(min_value=0, max_value=4e9))
def test_no_dialect_ever_raises(dialect: Dialect, headers: dict[str, str], now: float) -> None:
    report = parse_limit_headers(dialect, headers, now)
    for metric in report.metrics:
        assert metric.limit is None or metric.limit >= 0
        assert metric.remaining is None or metric.remaining >= 0
    for name, _value in report.raw_unparsed:
        assert name == name.lower()
