from __future__ import annotations

import pytest

from chain429.limits.metric import Scope
from chain429.providers.retry_hints import (
    PER_DAY,
    PER_HOUR,
    PER_MINUTE,
    RetryHint,
    delay_in_message,
    message_hint,
    quota_period,
)

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC


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


def test_message_delay_and_period() -> None:
    hint = message_hint("Limit on tokens per minute. Please retry in 30.5s.", NOW)
    assert hint == RetryHint(NOW + 30.5, PER_MINUTE, Scope.MODEL)
    assert message_hint("nothing to go by", NOW) == RetryHint()


def test_without_now_only_the_reason_is_known() -> None:
    assert message_hint("try again in 3s per day", None) == RetryHint(None, PER_DAY)
