"""Cooldown lengths: the provider's own time first, else doubling from the default."""

from __future__ import annotations

import pytest

from chain429.limits.cooldown import DEFAULT_MAX_COOLDOWN_S, MAX_BACKOFF_S, CooldownPolicy

NOW = 10_000.0


def policy(
    default_s: float = 60.0,
    mid_s: float = 30.0,
    mid_max_s: float = 600.0,
    max_s: float = DEFAULT_MAX_COOLDOWN_S,
):
    return CooldownPolicy(
        default_s=default_s,
        failure_penalty_s=5.0,
        payment_s=3600.0,
        mid_stream_threshold=3,
        mid_stream_s=mid_s,
        mid_stream_max_s=mid_max_s,
        max_s=max_s,
    )


def test_the_providers_retry_time_wins():
    assert policy().rate_limited(NOW, NOW + 7.5, strikes=0) == NOW + 7.5
    assert policy().rate_limited(NOW, NOW + 86_400, strikes=5) == NOW + 86_400


@pytest.mark.parametrize("retry_at", [None, NOW, NOW - 30])
def test_without_a_future_retry_time_the_default_applies(retry_at):
    assert policy().rate_limited(NOW, retry_at, strikes=1) == NOW + 60


@pytest.mark.parametrize(
    ("strikes", "seconds"), [(0, 60), (1, 60), (2, 120), (3, 240), (4, 480), (6, 1920)]
)
def test_untimed_strikes_double_the_wait(strikes, seconds):
    assert policy().rate_limited(NOW, None, strikes) == NOW + seconds


def test_backoff_is_capped_at_an_hour():
    assert policy().rate_limited(NOW, None, strikes=7) == NOW + MAX_BACKOFF_S
    assert policy().rate_limited(NOW, None, strikes=200) == NOW + MAX_BACKOFF_S


def test_a_default_longer_than_the_cap_is_kept():
    assert policy(default_s=7200).rate_limited(NOW, None, strikes=3) == NOW + 7200


def test_zero_default_means_no_cooldown():
    assert policy(default_s=0).rate_limited(NOW, None, strikes=4) == NOW


@pytest.mark.parametrize(
    ("escalations", "seconds"), [(0, 30), (1, 60), (2, 120), (4, 480), (5, 600), (30, 600)]
)
def test_mid_stream_cooldown_doubles_up_to_its_cap(escalations, seconds):
    assert policy().mid_stream(NOW, escalations) == NOW + seconds


@pytest.mark.parametrize("strikes", [1_025, 1_026, 10**6, 10**30])
def test_any_number_of_strikes_gives_the_capped_wait(strikes):
    assert policy().rate_limited(NOW, None, strikes) == NOW + MAX_BACKOFF_S


@pytest.mark.parametrize("escalations", [1_024, 10**6, 10**30])
def test_any_number_of_escalations_gives_the_capped_wait(escalations):
    assert policy().mid_stream(NOW, escalations) == NOW + 600


def test_a_tiny_default_still_doubles_up_to_the_cap():
    assert policy(default_s=0.001).rate_limited(NOW, None, 10**9) == NOW + MAX_BACKOFF_S
    assert policy(mid_s=0.001, mid_max_s=0.0).mid_stream(NOW, 10**9) == NOW


def test_the_default_max_cooldown_is_a_week():
    assert DEFAULT_MAX_COOLDOWN_S == 604_800


@pytest.mark.parametrize("asked_s", [86_400.0 * 8, 1e12, float("inf")])
def test_no_retry_time_benches_past_the_max_cooldown(asked_s):
    assert policy().rate_limited(NOW, NOW + asked_s, strikes=0) == NOW + DEFAULT_MAX_COOLDOWN_S


def test_a_retry_time_within_the_max_cooldown_is_kept():
    assert policy(max_s=120).rate_limited(NOW, NOW + 119, strikes=0) == NOW + 119


@pytest.mark.parametrize("strikes", [1, 5, 10_000])
def test_the_backoff_stops_at_the_max_cooldown_too(strikes):
    assert policy(default_s=300, max_s=200).rate_limited(NOW, None, strikes) == NOW + 200
