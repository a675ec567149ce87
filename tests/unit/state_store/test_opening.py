"""How long a reservation's lease lasts: the longest request timeout plus a third of it, at
least 2 s and at most 10 s more (a short timeout gets a dead replica's capacity back soon; the
default keeps the 10 s margin it always had)."""

from __future__ import annotations

import pytest

from chain429.state_store.opening import lease_s
from tests.support.proxy import make_config

UPSTREAMS = [("a", "http://127.0.0.1:9/v1"), ("b", "http://127.0.0.1:9/v1")]


@pytest.mark.parametrize(
    ("timeout_ms", "expected_s"),
    [
        (100, 2.1),  # at least 2 s more
        (3_000, 5.0),
        (6_000, 8.0),  # a third from 6 s up
        (12_000, 16.0),
        (30_000, 40.0),  # the default: 10 s more, as before
        (120_000, 130.0),  # at most 10 s more
    ],
)
def test_a_lease_lasts_the_request_timeout_plus_a_third_of_it_within_2_to_10_s(
    timeout_ms: int, expected_s: float
) -> None:
    config = make_config(UPSTREAMS, settings={"requestTimeoutMs": timeout_ms})

    assert lease_s(config) == pytest.approx(expected_s)


def test_the_longest_provider_timeout_sets_the_lease() -> None:
    config = make_config(
        UPSTREAMS,
        settings={"requestTimeoutMs": 3_000},
        provider_extra={"a": {"timeout": 9_000}, "b": {"timeout": 1_000}},
    )

    assert lease_s(config) == pytest.approx(12.0)
