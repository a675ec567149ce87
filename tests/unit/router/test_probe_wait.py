"""Waiting for the answer of an entry's probes: woken by answers and releases, bounded by
`probeWaitMs` on the injected clock, cancellable; and, under any interleaving, never more
probes than allowed and never a waiter left behind by an answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chain429.limits.metric import LimitReport, Metric, MetricKind, Window
from chain429.limits.probe import Answer, ProbeGate
from chain429.limits.tracker import (
    Demand,
    LimitTracker,
    Reservation,
    Skip,
    SkipReason,
    policy_from,
)
from chain429.outcome import Outcome
from chain429.router.probe_wait import ProbeWaits, is_probing
from tests.support.clock import FakeClock
from tests.support.configs import build_config, entries, key_provider

START = 1_800_000_000.0
WAIT_S = 2.0
CONFIG = build_config(
    [{"id": "p", "type": "groq", "apiKey": "sk-probe-key-00000001"}],
    {"c": entries(("p", "m"))},
)
P = key_provider("sk-probe-key-00000001")


def rig(concurrency: int = 1) -> tuple[FakeClock, LimitTracker, ProbeWaits]:
    clock = FakeClock(START)
    tracker = LimitTracker(policy_from(CONFIG.settings), clock, probes=ProbeGate(concurrency))
    return clock, tracker, ProbeWaits(tracker, clock)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def headers(remaining: int) -> LimitReport:
    metric = Metric(MetricKind.REQUESTS, Window.MINUTE, 10, remaining, START + 60)
    return LimitReport(metrics=(metric,))


class Waiter:
    """One request that met a probing entry and waits in the background."""

    def __init__(self, waits: ProbeWaits, tracker: LimitTracker) -> None:
        self.waited: list[float] = []
        first = tracker.admit(P, "m")
        assert is_probing(first), first
        self.task = asyncio.ensure_future(
            waits.wait(first, P, "m", Demand(), WAIT_S, self.waited.append)
        )

    @property
    def result(self) -> Reservation | Skip:
        return self.task.result()


def admitted(tracker: LimitTracker) -> Reservation:
    result = tracker.admit(P, "m")
    assert isinstance(result, Reservation), result
    return result


async def test_waiters_are_admitted_against_what_the_answer_said():
    clock, tracker, waits = rig()
    probe = admitted(tracker)
    waiters = [Waiter(waits, tracker) for _ in range(4)]
    await settle()
    assert waits.waiting("p", "m") == 4
    tracker.observe(probe, headers(remaining=2))
    tracker.release(probe)
    tracker.record(probe, Outcome.SERVED)
    await settle()
    results = [w.result for w in waiters]
    assert sum(isinstance(r, Reservation) for r in results) == 2
    skips = [r for r in results if isinstance(r, Skip)]
    assert [s.reason for s in skips] == [SkipReason.REQUESTS_EXHAUSTED] * 2
    assert all(w.waited == [0.0] for w in waiters)
    assert waits.waiting("p", "m") == 0


async def test_a_failed_probe_sends_its_waiters_on():
    clock, tracker, waits = rig()
    probe = admitted(tracker)
    waiters = [Waiter(waits, tracker) for _ in range(3)]
    await settle()
    clock.advance(0.25)
    tracker.release(probe)
    tracker.record(probe, Outcome.SERVER_ERROR)
    await settle()
    assert [w.result.reason for w in waiters] == [SkipReason.FAILING] * 3
    assert all(w.waited == [0.25] for w in waiters)


async def test_waiting_ends_at_probe_wait_ms_with_the_probing_skip():
    clock, tracker, waits = rig()
    admitted(tracker)
    waiter = Waiter(waits, tracker)
    await settle()
    clock.advance(WAIT_S - 0.001)
    await settle()
    assert not waiter.task.done()
    clock.advance(0.001)
    await settle()
    assert waiter.result.reason is SkipReason.PROBING
    assert waiter.waited == [pytest.approx(WAIT_S)]
    assert clock.pending == 0, "no timer left behind"


async def test_at_its_deadline_a_waiter_goes_to_an_entry_that_only_starts_slowly():
    clock, tracker, waits = rig()
    probe = admitted(tracker)
    tracker.release(probe)
    tracker.record(probe, Outcome.SERVED)  # no headers: open to two at once
    admitted(tracker)
    admitted(tracker)
    waiter = Waiter(waits, tracker)
    await settle()
    clock.advance(WAIT_S)
    await settle()
    assert isinstance(waiter.result, Reservation)
    assert waiter.waited == [pytest.approx(WAIT_S)]


async def test_zero_wait_returns_the_skip_at_once():
    clock, tracker, waits = rig()
    admitted(tracker)
    skip = tracker.admit(P, "m")
    assert isinstance(skip, Skip)
    seen: list[float] = []
    assert await waits.wait(skip, P, "m", Demand(), 0, seen.append) is skip
    assert seen == [] and waits.waiting("p", "m") == 0


async def test_a_waiter_that_leaves_is_gone_and_the_others_stay():
    clock, tracker, waits = rig()
    admitted(tracker)
    leaving, staying = Waiter(waits, tracker), Waiter(waits, tracker)
    await settle()
    leaving.task.cancel()
    await settle()
    assert leaving.task.cancelled()
    assert leaving.waited == [0.0], "the wait is reported however it ends"
    assert waits.waiting("p", "m") == 1
    assert not staying.task.done()
    assert clock.pending == 1


async def test_a_probe_whose_client_left_hands_its_place_to_a_waiter():
    clock, tracker, waits = rig()
    probe = admitted(tracker)
    first, second = Waiter(waits, tracker), Waiter(waits, tracker)
    await settle()
    tracker.release(probe)  # no outcome: the client left
    await settle()
    done = [w for w in (first, second) if w.task.done()]
    assert len(done) == 1 and isinstance(done[0].result, Reservation)
    assert waits.waiting("p", "m") == 1


async def test_answers_on_other_entries_wake_nobody():
    clock, tracker, waits = rig()
    admitted(tracker)
    waiter = Waiter(waits, tracker)
    other = tracker.admit(P, "other")
    assert isinstance(other, Reservation)
    await settle()
    tracker.release(other)
    tracker.record(other, Outcome.SERVED)
    await settle()
    assert not waiter.task.done()


# Interleavings: requests arriving, probes answered (served with or without headers, 429,
# failing), probe clients leaving, waiting clients leaving, and time passing.
Op = tuple[str, int]
OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["arrive", "arrive", "served", "served_headers", "refused", "failed", "left", "cancel"]
            + ["tick"]
        ),
        st.integers(min_value=0, max_value=7),
    ),
    max_size=40,
)


def needs_probe(tracker: LimitTracker) -> bool:
    """Whether the entry takes only probes now (unknown and unanswered, or failed)."""
    state = tracker.model_state("p", 0, "m")
    if state is None:
        return True
    return state.answer is Answer.FAILED or (
        not state.windows and state.answer is not Answer.SERVED
    )


async def interleave(ops: list[Op], concurrency: int) -> None:
    clock, tracker, waits = rig(concurrency)
    admit = tracker.admit
    violations: list[str] = []

    def checked_admit(provider: Any, model: str, demand: Any = None) -> Reservation | Skip:
        state = tracker.model_state("p", 0, model)
        before = state.in_flight if state is not None else 0
        probing = needs_probe(tracker)
        result = admit(provider, model, demand)
        if isinstance(result, Reservation) and probing and before >= concurrency:
            violations.append(f"admitted with {before} probes out")
        return result

    tracker.admit = checked_admit  # type: ignore[method-assign]
    out: list[Reservation] = []
    waiting: list[tuple[asyncio.Task[Reservation | Skip], float]] = []
    actions: dict[str, Callable[[int], Awaitable[None] | None]] = {}

    def answer(index: int, outcome: Outcome, report: LimitReport | None = None) -> None:
        if not out:
            return
        reservation = out.pop(index % len(out))
        if report is not None:
            tracker.observe(reservation, report)
        tracker.release(reservation)
        if outcome is not Outcome.CLIENT_CLOSED:
            retry = clock.now() + 1 if outcome is Outcome.RATE_LIMITED else None
            tracker.record(reservation, outcome, retry)

    def arrive(_: int) -> None:
        result = tracker.admit(P, "m")
        if isinstance(result, Reservation):
            out.append(result)
        elif is_probing(result):
            task = asyncio.ensure_future(
                waits.wait(result, P, "m", Demand(), WAIT_S, lambda _: None)
            )
            waiting.append((task, clock.now()))

    def cancel(index: int) -> None:
        live = [t for t, _ in waiting if not t.done()]
        if live:
            live[index % len(live)].cancel()

    actions["arrive"] = arrive
    actions["served"] = lambda i: answer(i, Outcome.SERVED)
    actions["served_headers"] = lambda i: answer(i, Outcome.SERVED, headers(remaining=i))
    actions["refused"] = lambda i: answer(i, Outcome.RATE_LIMITED)
    actions["failed"] = lambda i: answer(i, Outcome.SERVER_ERROR)
    actions["left"] = lambda i: answer(i, Outcome.CLIENT_CLOSED)
    actions["cancel"] = cancel
    actions["tick"] = lambda i: clock.advance(i * 0.5)

    for name, value in ops:
        actions[name](value)
        await settle()
        for task, _ in waiting:
            if task.done() and not task.cancelled() and isinstance(task.result(), Reservation):
                reservation = task.result()
                if reservation not in out and not reservation.released:
                    out.append(reservation)
        still = [(t, at) for t, at in waiting if not t.done()]
        if still:
            assert all(at + WAIT_S > clock.now() for _, at in still), "a deadline passed"
            probe = admit(P, "m")
            assert is_probing(probe), f"a waiter waits while the entry admits: {probe}"
        assert waits.waiting("p", "m") == len(still)
    for task, _ in waiting:
        task.cancel()
    await settle()
    assert not violations, violations


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, concurrency=st.integers(min_value=1, max_value=3))
@example(ops=[("arrive", 0), ("arrive", 0), ("left", 0)], concurrency=1)
@example(
    ops=[("arrive", 0), ("arrive", 0), ("arrive", 0), ("cancel", 0), ("left", 0)], concurrency=1
)
def test_no_interleaving_sends_more_probes_or_strands_a_waiter(ops: list[Op], concurrency: int):
    asyncio.run(interleave(ops, concurrency))
