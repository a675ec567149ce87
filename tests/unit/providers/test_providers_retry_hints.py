from __future__ import annotations

import pytest

from chain429.limits.metric import Scope
from chain429.providers.retry_hints import (
    FREE_MODELS_PER_DAY,
    FREE_MODELS_PER_MINUTE,
    PER_DAY,
    PER_HOUR,
    PER_MINUTE,
    delay_in_message,
    quota_period,
    retry_hint,
)

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC, midnight in Pacific standard time
NEXT_UTC_MIDNIGHT = 1_800_057_600.0
NEXT_PACIFIC_MIDNIGHT = NOW + 86_400


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        ("Please try again in 12m41.376s.", 761.376),
        ("Please retry in 30.137s.", 30.137),
        ("Please try again in 20s.", 20.0),
        ("Please try again in 450ms", 0.45),
        ("Retry after 20 seconds", 20.0),
        ("try again in 5 minutes", 300.0),
        ("Please wait 40000 seconds before retrying.", 40000.0),
        ("please wait for 2 hours", 7200.0),
        ("retry 3 times", None),
        ("try again later", None),
        ("", None),
    ],
)
def test_delays_in_messages(message: str, seconds: float | None) -> None:
    found = delay_in_message(message)
    assert found == (None if seconds is None else pytest.approx(seconds))


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("on tokens per day (TPD): Limit 100000", PER_DAY),
        ("GenerateRequestsPerDayPerProjectPerModel-FreeTier", PER_DAY),
        ("UserByModelByDay", PER_DAY),
        ("Rate limit of 150 per 86400s exceeded", PER_DAY),
        ("GenerateRequestsPerMinutePerProjectPerModel", PER_MINUTE),
        ("on requests per minute (RPM)", PER_MINUTE),
        ("requests per hour", PER_HOUR),
        ("something else", None),
    ],
)
def test_quota_periods(text: str, period: str | None) -> None:
    assert quota_period(text) == period


def _google_error(quota_id: str, delay: object) -> dict[str, object]:
    return {
        "code": 429,
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{"quotaMetric": "x/requests", "quotaId": quota_id}],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
        ],
    }


def test_gemini_per_minute_waits_the_retry_delay() -> None:
    error = _google_error("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "30s")
    hint = retry_hint(error, "Quota exceeded", NOW)
    assert (hint.retry_at, hint.reason, hint.scope) == (NOW + 30, PER_MINUTE, Scope.MODEL)


def test_gemini_per_day_waits_for_pacific_midnight() -> None:
    error = _google_error("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "30s")
    hint = retry_hint(error, "Quota exceeded", NOW + 3600)
    assert (hint.retry_at, hint.reason) == (NEXT_PACIFIC_MIDNIGHT, PER_DAY)


def test_gemini_proto_json_delay() -> None:
    error = _google_error("PerMinute", {"seconds": 12, "nanos": 500_000_000})
    assert retry_hint(error, "", NOW).retry_at == NOW + 12.5


def test_message_delay_when_no_details() -> None:
    hint = retry_hint({}, "Please retry in 30.5s.", NOW)
    assert hint.retry_at == NOW + 30.5


def test_free_models_per_day_waits_for_utc_midnight() -> None:
    message = "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 per day"
    hint = retry_hint({}, message, NOW)
    assert (hint.retry_at, hint.reason) == (NEXT_UTC_MIDNIGHT, FREE_MODELS_PER_DAY)
    assert hint.scope is Scope.FREE_MODELS


def test_free_models_per_minute() -> None:
    hint = retry_hint({}, "Rate limit exceeded: free-models-per-min.", NOW)
    assert (hint.retry_at, hint.reason, hint.scope) == (
        None,
        FREE_MODELS_PER_MINUTE,
        Scope.FREE_MODELS,
    )


def test_without_now_only_the_reason_is_known() -> None:
    hint = retry_hint({}, "free-models-per-day", None)
    assert (hint.retry_at, hint.reason) == (None, FREE_MODELS_PER_DAY)
    assert retry_hint({}, "try again in 3s per day", None).retry_at is None


@pytest.mark.parametrize(
    "details", [None, "x", [1, None, {"@type": 5}], [{"@type": "google.rpc.QuotaFailure"}]]
)
def test_odd_details_are_ignored(details: object) -> None:
    assert retry_hint({"details": details}, "", NOW).retry_at is None
