"""Token counts read from an upstream's `usage` object: only plausible integers count."""

from __future__ import annotations

import pytest

from chain429.router.walk import usage_tokens


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (1234, 1234),
        (2**63 - 1, 2**63 - 1),
        (2**63, None),  # no 64-bit column holds it
        (10**20, None),
        (-5, None),  # would run token windows and counters backwards
        (True, None),
        (12.0, None),
        ("12", None),
        (None, None),
    ],
)
def test_only_plausible_integer_counts_are_read(value: object, expected: int | None) -> None:
    assert usage_tokens({"prompt_tokens": value}, "prompt_tokens") == expected


def test_a_missing_usage_or_count_is_none() -> None:
    assert usage_tokens(None, "prompt_tokens") is None
    assert usage_tokens({}, "prompt_tokens") is None
