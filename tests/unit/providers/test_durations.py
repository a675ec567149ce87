from __future__ import annotations

import pytest

from chain429.providers.durations import (
    parse_count,
    parse_duration,
    parse_milliseconds,
    parse_number,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2m59.56s", 179.56),
        ("7.66s", 7.66),
        ("1h2m3s", 3723.0),
        ("250ms", 0.25),
        ("6m0s", 360.0),
        ("1s", 1.0),
        ("20ms", 0.02),
        ("0s", 0.0),
        ("33011.38", 33011.38),
        ("60", 60.0),
        (" 7.66S ", 7.66),
        ("1.5h", 5400.0),
        ("1d", 86400.0),
        ("300us", 0.0003),
        ("2m", 120.0),
    ],
)
def test_durations_read_go_strings_and_bare_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "-1s", "1x", "nan", "inf", "1e999", "s", "m5", "1 m", "9" * 70, "999999999h", "٣s"],
)
def test_malformed_durations_are_none(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "count"),
    [("14400", 14400), ("0", 0), ("-5", 0), ("1.0", 1), ("+3", 3), (" 42 ", 42)],
)
def test_counts(text: str, count: int) -> None:
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["", "1.5", "abc", "٣", "1e3", "9" * 25, "12 34"])
def test_malformed_counts_are_none(text: str) -> None:
    assert parse_count(text) is None


def test_numbers_and_milliseconds() -> None:
    assert parse_number("1.5e3") == 1500.0
    assert parse_number("-1") is None
    assert parse_milliseconds("1500") == 1.5
    assert parse_milliseconds("1e12") is None
    assert parse_milliseconds("soon") is None
