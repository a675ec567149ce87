from __future__ import annotations

import pytest

from chain429.limits.metric import MetricKind, Window
from chain429.providers.ietf import parse_ietf, parse_retry_after

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC


def test_split_fields_with_a_policy() -> None:
    headers = {
        "RateLimit-Limit": "100",
        "RateLimit-Remaining": "42",
        "RateLimit-Reset": "30",
        "RateLimit-Policy": "100;w=60",
    }
    [metric] = parse_ietf(headers, NOW)
    assert metric.kind is MetricKind.REQUESTS
    assert metric.window is Window.MINUTE
    assert (metric.limit, metric.remaining, metric.reset_at) == (100, 42, NOW + 30)
    assert ("ratelimit-policy", "100;w=60") in metric.raw


def test_list_valued_limit_and_a_day_policy() -> None:
    headers = {"ratelimit-limit": "1000, 1000;w=86400", "ratelimit-remaining": "0"}
    headers["ratelimit-policy"] = "1000;w=86400, 10;w=1"
    [metric] = parse_ietf(headers, NOW)
    assert (metric.limit, metric.remaining, metric.window) == (1000, 0, Window.DAY)


def test_draft_07_combined_field() -> None:
    [metric] = parse_ietf({"RateLimit": "limit=100, remaining=50, reset=50"}, NOW)
    assert (metric.limit, metric.remaining, metric.reset_at) == (100, 50, NOW + 50)


def test_draft_08_items_with_a_quota_policy() -> None:
    headers = {"RateLimit": '"default";r=50;t=30', "RateLimit-Policy": '"default";q=100;w=3600'}
    [metric] = parse_ietf(headers, NOW)
    assert (metric.limit, metric.remaining, metric.reset_at) == (100, 50, NOW + 30)
    assert metric.window is Window.HOUR


def test_an_unnamed_window_is_unknown() -> None:
    [metric] = parse_ietf({"ratelimit-remaining": "1", "ratelimit-policy": "5;w=10"}, NOW)
    assert metric.window is Window.UNKNOWN
    assert metric.limit == 5


def test_nothing_readable_gives_nothing() -> None:
    assert parse_ietf({"ratelimit": "garbage", "ratelimit-limit": "many"}, NOW) == []
    assert parse_ietf({}, NOW) == []


@pytest.mark.parametrize(
    ("headers", "retry_at"),
    [
        ({"Retry-After": "120"}, NOW + 120),
        ({"retry-after": "1.5"}, NOW + 1.5),
        ({"retry-after": "Fri, 15 Jan 2027 09:00:00 GMT"}, NOW + 3600),
        ({"retry-after-ms": "250"}, NOW + 0.25),
        ({"retry-after-ms": "250", "retry-after": "1"}, NOW + 0.25),
        ({"retry-after-ms": "junk", "retry-after": "1"}, NOW + 1),
        ({"retry-after": "-5"}, None),
        ({"retry-after": "later"}, None),
        ({"retry-after": "99999999999"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], retry_at: float | None) -> None:
    assert parse_retry_after(headers, NOW) == retry_at
