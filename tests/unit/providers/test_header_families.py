from __future__ import annotations

import pytest

from chain429.limits.metric import Metric, MetricKind, Scope, Source, Window
from chain429.providers.header_families import (
    header_names,
    limit_metric,
    openai_family,
    reset_after,
    reset_instant,
    windowed_family,
)
from chain429.providers.header_view import HeaderView

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC

OPENAI_NAMES = {
    "x-ratelimit-limit-requests": "14400",
    "x-ratelimit-remaining-requests": "14370",
    "x-ratelimit-reset-requests": "2m59.56s",
    "x-ratelimit-limit-tokens": "6000",
    "x-ratelimit-remaining-tokens": "5997",
    "x-ratelimit-reset-tokens": "7.66s",
}


def _by_kind(metrics: list[Metric]) -> dict[MetricKind, Metric]:
    return {m.kind: m for m in metrics}


def test_openai_family_takes_its_windows_from_the_caller() -> None:
    view = HeaderView(OPENAI_NAMES)
    metrics = _by_kind(openai_family(view, requests=Window.DAY, tokens=Window.MINUTE, now=NOW))
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


@pytest.mark.parametrize(
    ("reset", "seconds"), [("1h2m3s", 3723), ("250ms", 0.25), ("6m0s", 360), ("20ms", 0.02)]
)
def test_openai_family_duration_resets(reset: str, seconds: float) -> None:
    view = HeaderView({**OPENAI_NAMES, "X-RateLimit-Reset-Tokens": reset})
    tokens = _by_kind(openai_family(view, Window.MINUTE, Window.MINUTE, NOW))[MetricKind.TOKENS]
    assert tokens.reset_at == pytest.approx(NOW + seconds)


def test_windowed_family_windows_from_names_and_float_seconds() -> None:
    headers = {
        "x-ratelimit-limit-requests-day": "14400",
        "x-ratelimit-remaining-requests-day": "14399",
        "x-ratelimit-reset-requests-day": "33011.38",
        "x-ratelimit-limit-tokens-minute": "60000",
        "x-ratelimit-remaining-tokens-minute": "59000",
        "x-ratelimit-reset-tokens-minute": "11.38",
        "x-ratelimit-limit-req-minute": "60",
        "x-ratelimit-remaining-tokens-month": "999000000",
    }
    found = {
        (m.kind, m.window): (m.limit, m.remaining)
        for m in windowed_family(HeaderView(headers), NOW)
    }
    assert found == {
        (MetricKind.REQUESTS, Window.DAY): (14400, 14399),
        (MetricKind.TOKENS, Window.MINUTE): (60000, 59000),
        (MetricKind.REQUESTS, Window.MINUTE): (60, None),
        (MetricKind.TOKENS, Window.MONTH): (None, 999000000),
    }


def test_a_metric_needs_a_count() -> None:
    view = HeaderView({"x-ratelimit-reset": "5", "x-ratelimit-limit": "many"})
    names = header_names("")
    assert limit_metric(view, names, MetricKind.REQUESTS, Window.UNKNOWN, reset_after(NOW)) == []
    assert view.malformed == (("x-ratelimit-limit", "many"),)


def test_header_names() -> None:
    assert header_names("-tokens") == (
        "x-ratelimit-limit-tokens",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-tokens",
    )
    assert header_names("", prefix="x-tokenlimit")[1] == "x-tokenlimit-remaining"


@pytest.mark.parametrize(
    ("value", "instant"),
    [("1800000060000", NOW + 60), ("1800000060", NOW + 60), ("60", NOW + 60), ("soon", None)],
    ids=["epoch-ms", "epoch-s", "delta", "junk"],
)
def test_reset_instant_reads_any_unit(value: str, instant: float | None) -> None:
    assert reset_instant(NOW)(value) == instant


def test_reset_after_reads_a_duration() -> None:
    assert reset_after(NOW)("1m") == NOW + 60
    assert reset_after(NOW)("later") is None
