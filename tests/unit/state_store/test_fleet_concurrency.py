"""What a replica asks the fleet for a concurrency place, and what it makes of the answer: only
providers and entries with a `concurrentRequests` take one."""

from __future__ import annotations

from chain429.config.schema import RateLimits
from chain429.limits.manual import ManualLimits
from chain429.limits.state import Reservation
from chain429.limits.tracker import Skip, SkipReason
from chain429.state_store.fleet_concurrency import place_args, refusal, taken

WIDE = RateLimits(concurrent_requests=3)
OWN = RateLimits(concurrent_requests=1)


def reservation(model: str = "m/x") -> Reservation:
    return Reservation("p", 0, "…0001", "sk-0001", model)


def test_a_provider_and_entry_without_a_concurrency_limit_take_no_place() -> None:
    limits = ManualLimits({"p": RateLimits(requests_per_minute=5)})
    assert place_args(limits, reservation(), "l1", 10.0, 50.0, force=False, queued=False) is None
    assert (
        place_args(ManualLimits(), reservation(), "l1", 10.0, 50.0, force=False, queued=True)
        is None
    )


def test_a_place_names_both_limits_the_lease_and_how_it_is_asked() -> None:
    limits = ManualLimits({"p": WIDE}, {("p", "m/x"): OWN})

    args = place_args(limits, reservation(), "l1", 10.0, 50.0, force=False, queued=False)

    assert args == [10.0, "m%2Fx", "l1", 50.0, 3, 1, "0"]
    queued = place_args(limits, reservation(), "l1", 10.0, 50.0, force=False, queued=True)
    forced = place_args(limits, reservation(), "l1", 10.0, 50.0, force=True, queued=True)
    assert (queued or [])[-1] == "q" and (forced or [])[-1] == "1"


def test_an_entry_limit_alone_takes_a_place_with_no_provider_limit() -> None:
    limits = ManualLimits({}, {("p", "m/x"): OWN})

    assert place_args(limits, reservation(), "l1", 10.0, 50.0, force=False, queued=False) == [
        10.0,
        "m%2Fx",
        "l1",
        50.0,
        "",
        1,
        "0",
    ]
    assert (
        place_args(limits, reservation("other"), "l", 1.0, 2.0, force=False, queued=False) is None
    )


def test_a_refused_place_is_a_concurrency_skip_saying_across_replicas() -> None:
    assert refusal([b"provider"]) == Skip(
        SkipReason.CONCURRENCY_FULL, None, "concurrent request limit reached across replicas"
    )
    assert refusal([b"entry"]) == Skip(
        SkipReason.CONCURRENCY_FULL, None, "entry concurrency limit reached across replicas"
    )


def test_a_place_taken_or_unanswered_refuses_nothing() -> None:
    assert refusal([b"taken"]) is None and taken([b"taken"])
    assert refusal(None) is None and not taken(None)
    assert not taken([b"provider"])
