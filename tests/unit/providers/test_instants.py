from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain429.providers.instants import (
    next_pacific_midnight,
    next_utc_midnight,
    parse_http_date,
    parse_iso_datetime,
    parse_reset_instant,
)

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
PACIFIC = ZoneInfo("America/Los_Angeles")


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "text",
    ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"],
)
def test_http_dates_in_all_three_formats(text: str) -> None:
    assert parse_http_date(text) == _utc(1994, 11, 6, 8, 49, 37)


@pytest.mark.parametrize("text", ["", "soon", "Sun, 99 Foo 1994", "0 0 0 0 0", "1" * 100])
def test_bad_http_dates_are_none(text: str) -> None:
    assert parse_http_date(text) is None


def test_iso_datetimes() -> None:
    assert parse_iso_datetime("2027-01-15T08:00:00Z") == NOW
    assert parse_iso_datetime("2027-01-15T09:00:00+01:00") == NOW
    assert parse_iso_datetime("2027-01-15T08:00:00") == NOW
    assert parse_iso_datetime("tomorrow!!") is None


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("1800000060000", NOW + 60),  # epoch milliseconds (OpenRouter)
        ("1800000060", NOW + 60),  # epoch seconds
        ("60", NOW + 60),  # seconds from now
        ("0.5", NOW + 0.5),
        ("Fri, 15 Jan 2027 08:01:00 GMT", NOW + 60),
        ("2027-01-15T08:01:00Z", NOW + 60),
    ],
)
def test_reset_instants_are_read_by_their_size(text: str, instant: float) -> None:
    assert parse_reset_instant(text, NOW) == pytest.approx(instant)


@pytest.mark.parametrize("text", ["", "later", "99999999999999999999", "2099-01-01T00:00:00Z"])
def test_absurd_or_unreadable_resets_are_none(text: str) -> None:
    assert parse_reset_instant(text, NOW) is None


def test_next_utc_midnight() -> None:
    assert next_utc_midnight(NOW) == _utc(2027, 1, 16)
    assert next_utc_midnight(_utc(2027, 1, 16)) == _utc(2027, 1, 17)
    assert next_utc_midnight(_utc(2027, 1, 16) - 0.001) == _utc(2027, 1, 16)


def _zoneinfo_next_midnight(now: float) -> float:
    local = datetime.fromtimestamp(now, PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return midnight.timestamp()


@pytest.mark.parametrize(
    "moment",
    [
        NOW,
        _utc(2027, 7, 1, 12),
        _utc(2027, 3, 14, 9, 59),  # just before the spring switch
        _utc(2027, 3, 14, 10, 1),  # just after it
        _utc(2027, 11, 7, 8, 59),  # just before the autumn switch
        _utc(2027, 11, 7, 9, 1),
        _utc(2026, 12, 31, 23, 30),
    ],
)
def test_pacific_midnight_follows_daylight_saving(moment: float) -> None:
    assert next_pacific_midnight(moment) == _zoneinfo_next_midnight(moment)


@given(st.floats(min_value=1_199_145_600, max_value=4_102_444_800))  # 2008 to 2100
def test_pacific_calendar_agrees_with_the_time_zone_database(moment: float) -> None:
    assert next_pacific_midnight(moment) == _zoneinfo_next_midnight(moment)
