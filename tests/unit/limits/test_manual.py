"""Manual limits are resolved once from the config: whatever creates an entry (admission, a
snapshot restored at startup) gives it the same windows, and one provider and model listed in
several chains gets the stricter of their limits."""

from __future__ import annotations

from typing import Any

import pytest

from chain429.clock import PACIFIC_ZONE, UTC_ZONE, next_midnight
from chain429.config.schema import Config, RateLimits
from chain429.limits.manual import manual_limits, roller, stricter
from chain429.limits.metric import MetricKind, Window
from chain429.limits.snapshot import restore_snapshot
from chain429.limits.tracker import (
    Demand,
    LimitTracker,
    ProviderTraits,
    Reservation,
    Skip,
    SkipReason,
    policy_from,
)
from tests.support.clock import FakeClock
from tests.support.configs import build_config


def config(*chains: list[dict[str, Any]], provider_limits: dict[str, int] | None = None) -> Config:
    provider: dict[str, Any] = {
        "id": "p",
        "type": "generic-openai",
        "baseUrl": "http://127.0.0.1:1/v1",
        "apiKey": "key-p-123456789",
    }
    if provider_limits is not None:
        provider["rateLimits"] = provider_limits
    return build_config([provider], {f"c{i}": e for i, e in enumerate(chains)})


def entry(model: str = "m", **limits: int) -> dict[str, Any]:
    data: dict[str, Any] = {"provider": "p", "model": model}
    if limits:
        data["rateLimits"] = limits
    return data


def tracker_for(cfg: Config) -> tuple[FakeClock, LimitTracker]:
    clock = FakeClock()
    return clock, LimitTracker(policy_from(cfg.settings), clock, limits=manual_limits(cfg))


def served(tracker: LimitTracker, cfg: Config, model: str = "m", tokens: int = 0) -> None:
    result = tracker.admit(cfg.providers[0], model, Demand(tokens))
    assert isinstance(result, Reservation), result
    tracker.release(result)


def skip_reason(tracker: LimitTracker, cfg: Config, model: str = "m", tokens: int = 0) -> str:
    result = tracker.admit(cfg.providers[0], model, Demand(tokens))
    assert isinstance(result, Skip), result
    return result.reason


ONE_PER_MINUTE = config([entry(requestsPerMinute=1)])


def test_an_entrys_own_limit_applies_on_admission():
    _, tracker = tracker_for(ONE_PER_MINUTE)
    served(tracker, ONE_PER_MINUTE)
    assert skip_reason(tracker, ONE_PER_MINUTE) is SkipReason.REQUESTS_EXHAUSTED


def test_an_entry_created_before_its_first_admission_keeps_its_own_limits():
    _, tracker = tracker_for(ONE_PER_MINUTE)
    tracker.ensure_model_state("p", 0, "m")
    served(tracker, ONE_PER_MINUTE)
    assert skip_reason(tracker, ONE_PER_MINUTE) is SkipReason.REQUESTS_EXHAUSTED


def test_an_entry_restored_at_startup_keeps_its_own_limits():
    clock, tracker = tracker_for(ONE_PER_MINUTE)
    snapshot = {
        "version": 1,
        "entries": [{"provider": "p", "slot": 0, "model": "m", "windows": []}],
        "keys": [],
    }
    assert restore_snapshot(tracker, ONE_PER_MINUTE, snapshot, clock.now()) == 1
    served(tracker, ONE_PER_MINUTE)
    assert skip_reason(tracker, ONE_PER_MINUTE) is SkipReason.REQUESTS_EXHAUSTED


LOOSE = entry(requestsPerMinute=3, tokensPerMinute=1000)
TIGHT = entry(requestsPerMinute=1, concurrentRequests=5)


@pytest.mark.parametrize("chains", [([LOOSE], [TIGHT]), ([TIGHT], [LOOSE]), ([LOOSE, TIGHT],)])
def test_one_model_in_two_chains_gets_the_stricter_of_each_limit(chains):
    cfg = config(*chains)
    assert manual_limits(cfg).for_entry("p", "m") == RateLimits(
        requests_per_minute=1, tokens_per_minute=1000, concurrent_requests=5
    )
    _, tracker = tracker_for(cfg)
    assert skip_reason(tracker, cfg, tokens=1500) is SkipReason.TOO_LARGE
    served(tracker, cfg)
    assert skip_reason(tracker, cfg) is SkipReason.REQUESTS_EXHAUSTED


def test_an_entry_without_limits_of_its_own_brings_its_providers_into_the_minimum():
    cfg = config([entry()], [entry(requestsPerMinute=5)], provider_limits={"requestsPerDay": 2})
    assert manual_limits(cfg).for_entry("p", "m") == RateLimits(
        requests_per_minute=5, requests_per_day=2
    )


def test_an_entrys_limits_replace_its_providers_and_unlisted_models_get_the_providers():
    cfg = config([entry(requestsPerMinute=5)], provider_limits={"requestsPerDay": 2})
    limits = manual_limits(cfg)
    assert limits.for_entry("p", "m") == RateLimits(requests_per_minute=5)
    assert limits.for_entry("p", "other") == RateLimits(requests_per_day=2)
    assert limits.for_entry("gone", "m") is None
    _, tracker = tracker_for(cfg)
    served(tracker, cfg, "other")
    served(tracker, cfg, "other")
    assert skip_reason(tracker, cfg, "other") is SkipReason.REQUESTS_EXHAUSTED


def test_an_entrys_own_concurrency_limit_admits_exactly_that_many_at_once():
    cfg = config([entry(concurrentRequests=2)])
    _, tracker = tracker_for(cfg)
    p = cfg.providers[0]
    first, second = tracker.admit(p, "m"), tracker.admit(p, "m")
    assert isinstance(first, Reservation) and isinstance(second, Reservation)
    assert skip_reason(tracker, cfg) is SkipReason.CONCURRENCY_FULL
    tracker.release(first)
    assert isinstance(tracker.admit(p, "m"), Reservation)


def test_local_windows_roll_by_their_own_length_and_days_at_the_zones_midnight():
    now = 1_800_000_000.0
    assert roller(Window.MINUTE, PACIFIC_ZONE)(now) == now + 60
    assert roller(Window.HOUR, PACIFIC_ZONE)(now) == now + 3600
    assert roller(Window.DAY, PACIFIC_ZONE)(now) == next_midnight(now, PACIFIC_ZONE)
    assert next_midnight(now, PACIFIC_ZONE) != next_midnight(now, UTC_ZONE)


def test_a_manual_window_is_dated_by_its_creation_and_rolls_in_its_providers_zone():
    cfg = config([entry(requestsPerDay=2)])
    clock = FakeClock()
    traits = {"p": ProviderTraits(zone=PACIFIC_ZONE)}
    tracker = LimitTracker(policy_from(cfg.settings), clock, traits, limits=manual_limits(cfg))
    served(tracker, cfg)
    state = tracker.model_state("p", 0, "m")
    assert state is not None
    window = state.windows[(MetricKind.REQUESTS, Window.DAY)]
    assert window.updated_at == clock.now()
    assert window.reset_at == next_midnight(clock.now(), PACIFIC_ZONE)


def test_the_stricter_of_limits_and_nothing_is_the_limits():
    limits = RateLimits(requests_per_minute=3)
    assert stricter(limits, None) == limits == stricter(None, limits)
    assert stricter(None, None) is None


@pytest.mark.parametrize("step", [3600.0, -3600.0], ids=["forward", "backward"])
def test_a_day_window_ends_at_the_wall_clocks_midnight_after_a_step(step):
    # A step of the wall clock moves where midnight falls on the steady timeline, not the
    # steady timeline itself: the day ends at the true midnight.
    cfg = config([entry(requestsPerDay=1)])
    clock, tracker = tracker_for(cfg)
    clock.step_wall(step)
    midnight = next_midnight(clock.wall(), UTC_ZONE) - step
    served(tracker, cfg)
    skip = tracker.admit(cfg.providers[0], "m")
    assert isinstance(skip, Skip) and skip.until == midnight
    clock.set(midnight - 1)
    assert skip_reason(tracker, cfg) is SkipReason.REQUESTS_EXHAUSTED
    clock.set(midnight)
    served(tracker, cfg)
    assert roller(Window.DAY, UTC_ZONE, clock)(clock.now()) == midnight + 86_400
