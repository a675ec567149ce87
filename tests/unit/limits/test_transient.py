"""Entries of models no chain lists stay bounded in number; the config's entries stay put."""

from __future__ import annotations

from chain429.config.schema import ProviderConfig, RateLimits
from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.manual import ManualLimits
from chain429.limits.snapshot import take_snapshot
from chain429.limits.state import KeyModelState
from chain429.limits.tracker import PAYMENT_COOLDOWN_S, LimitTracker, Reservation, SkipReason
from chain429.limits.transient import MAX_TRANSIENT_ENTRIES, TransientEntries, listed_entries
from chain429.outcome import Outcome
from tests.support.clock import FakeClock
from tests.support.configs import build_config, entries

START = 1_800_000_000.0
POLICY = CooldownPolicy(60.0, 5.0, PAYMENT_COOLDOWN_S, 3, 30.0, 100.0)
LISTED = frozenset({("p", "listed")})


def provider() -> ProviderConfig:
    return ProviderConfig.model_validate({"id": "p", "type": "groq", "apiKey": "sk-one-aaaa1111"})


def known(tracker: LimitTracker) -> set[tuple[str, int, str]]:
    """Every (provider, key slot, model) the tracker holds state for."""
    return {key_model for key_model, _ in tracker.model_states()}


def served(tracker: LimitTracker, prov: ProviderConfig, model: str) -> None:
    reservation = tracker.admit(prov, model)
    assert isinstance(reservation, Reservation), reservation
    tracker.release(reservation)
    tracker.record(reservation, Outcome.SERVED)


def test_100000_model_names_leave_at_most_the_cap_and_every_listed_entry():
    clock = FakeClock(START)
    tracker = LimitTracker(POLICY, clock, listed=LISTED)
    p = provider()
    reservation = tracker.admit(p, "listed")
    assert isinstance(reservation, Reservation)
    tracker.release(reservation)
    tracker.record(reservation, Outcome.RATE_LIMITED, START + 3600)

    for index in range(100_000):
        served(tracker, p, f"model-{index}")
        assert len(known(tracker)) <= MAX_TRANSIENT_ENTRIES + 1

    assert len(known(tracker)) == MAX_TRANSIENT_ENTRIES + 1
    assert tracker.model_state("p", 0, "listed").cooldown_until == START + 3600
    assert ("p", 0, "model-99999") in known(tracker)
    assert ("p", 0, f"model-{99_999 - MAX_TRANSIENT_ENTRIES}") not in known(tracker)
    assert len(take_snapshot(tracker, clock.now())["entries"]) == 1  # nothing else to keep


def test_the_least_recently_used_idle_entry_goes_first_and_one_in_flight_stays():
    tracker = LimitTracker(POLICY, FakeClock(START), listed=LISTED)
    p = provider()
    held = tracker.admit(p, "long-stream")
    assert isinstance(held, Reservation)
    served(tracker, p, "often-used")
    for index in range(3 * MAX_TRANSIENT_ENTRIES):
        served(tracker, p, f"model-{index}")
        if index % 100 == 0:
            served(tracker, p, "often-used")
    assert ("p", 0, "long-stream") in known(tracker)
    assert ("p", 0, "often-used") in known(tracker)
    assert len(known(tracker)) == MAX_TRANSIENT_ENTRIES
    tracker.release(held)
    tracker.record(held, Outcome.SERVED)


def test_an_entry_concurrency_limit_holds_among_thousands_of_other_entries():
    limits = ManualLimits(entries={("p", "m"): RateLimits(concurrent_requests=2)})
    tracker = LimitTracker(POLICY, FakeClock(START), limits=limits, listed=LISTED)
    p = provider()
    for index in range(2 * MAX_TRANSIENT_ENTRIES):
        served(tracker, p, f"model-{index}")
    first, second = tracker.admit(p, "m"), tracker.admit(p, "m")
    assert isinstance(first, Reservation) and isinstance(second, Reservation)
    full = tracker.admit(p, "m")
    assert not isinstance(full, Reservation) and full.reason is SkipReason.CONCURRENCY_FULL
    tracker.release(first)
    tracker.release(first)  # twice gives back once
    third = tracker.admit(p, "m")
    assert isinstance(third, Reservation)
    assert not isinstance(tracker.admit(p, "m"), Reservation)
    tracker.release(second)
    tracker.release(third)
    assert isinstance(tracker.admit(p, "m"), Reservation)


def test_eviction_passes_over_entries_in_flight_and_never_takes_the_new_one():
    busy, idle = KeyModelState(in_flight=1), KeyModelState()
    states = {("p", 0, "a"): busy, ("p", 0, "b"): idle}
    transient = TransientEntries(frozenset(), limit=2)
    for key in states:
        transient.created(key, states)
    states[("p", 0, "c")] = KeyModelState()
    transient.created(("p", 0, "c"), states)
    assert set(states) == {("p", 0, "a"), ("p", 0, "c")}
    everyone_busy = {key: KeyModelState(in_flight=1) for key in states}
    everyone_busy[("p", 0, "d")] = KeyModelState()
    transient.created(("p", 0, "d"), everyone_busy)
    assert ("p", 0, "d") in everyone_busy and len(transient) == 3


def test_the_listed_entries_are_every_provider_and_model_a_chain_names():
    config = build_config(
        [{"id": "p", "type": "groq", "apiKey": "sk-one-aaaa1111"}],
        {"c": entries(("p", "a")), "d": entries(("p", "b"))},
    )
    assert listed_entries(config) == {("p", "a"), ("p", "b")}


def test_an_entry_admitted_again_is_the_last_to_go():
    tracker = LimitTracker(POLICY, FakeClock(START), listed=LISTED)
    p = provider()
    served(tracker, p, "kept")
    for index in range(MAX_TRANSIENT_ENTRIES - 1):
        served(tracker, p, f"model-{index}")
    served(tracker, p, "kept")
    served(tracker, p, "one-more")
    assert ("p", 0, "kept") in known(tracker)
    assert ("p", 0, "model-0") not in known(tracker)
