"""A request's walk record across the passes of queue mode: the last pass's skips, every call."""

from __future__ import annotations

from chain429.config.schema import ChainEntry
from chain429.limits.state import Reservation
from chain429.limits.tracker import Skip, SkipReason
from chain429.outcome import Outcome
from chain429.redaction import Redactor
from chain429.router.attempt import AttemptResult
from chain429.router.request import ClientRequest, Endpoint
from chain429.router.walk import Walk

NOW = 1_800_000_000.0
FIRST, SECOND = ChainEntry(provider="groq", model="llama"), ChainEntry(provider="b", model="m")
COOLING = Skip(SkipReason.COOLING_DOWN, NOW + 30, "rate limited (429)")


def new_walk() -> Walk:
    request = ClientRequest("r1", Endpoint.CHAT, {}, "fast", False, False, 1, None, NOW)
    return Walk(request, "fast", Redactor(), lambda: NOW)


def test_another_pass_drops_the_skips_of_the_last_one_and_keeps_the_calls() -> None:
    walk = new_walk()
    walk.new_pass()
    walk.skipped(0, FIRST, COOLING)
    reservation = Reservation("b", 0, "…abcd", "sk-b-0000", "m")
    failed = AttemptResult(Outcome.RATE_LIMITED, status=429, reason="rate limited")
    walk.attempted(1, SECOND, reservation, failed, "rate limited", NOW + 60)
    for _ in range(1000):  # woken again and again while nothing is free
        walk.new_pass()
        walk.skipped(0, FIRST, COOLING)
        walk.skipped(1, SECOND, COOLING)

    assert [(a.provider_id, a.outcome) for a in walk.attempts] == [
        ("b", Outcome.RATE_LIMITED),
        ("groq", Outcome.SKIPPED),
        ("b", Outcome.SKIPPED),
    ]
    assert len(walk.notes) == 2
    assert walk.headers({})["X-429chain-Attempts"] == "3"


def test_the_time_spent_waiting_adds_up_on_the_record() -> None:
    walk = new_walk()
    assert walk.record(429, "all_exhausted").queued_ms is None
    walk.waited(1.5)
    walk.waited(0.25)
    assert walk.record(429, "all_exhausted").queued_ms == 1750.0
