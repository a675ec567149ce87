"""Which answers put an entry in probe mode, and how many requests a probing entry takes."""

from __future__ import annotations

import pytest

from chain429.limits.probe import (
    FAILED_DETAIL,
    SLOW_START,
    SLOW_START_DETAIL,
    UNKNOWN_DETAIL,
    Answer,
    ProbeGate,
    answer_after,
    served_run,
)
from chain429.outcome import Outcome

FAILURES = [
    Outcome.SERVER_ERROR,
    Outcome.TIMEOUT,
    Outcome.CONNECT_ERROR,
    Outcome.BAD_RESPONSE,
    Outcome.IN_BAND_ERROR,
]
SILENT = [
    Outcome.SKIPPED,
    Outcome.PAYMENT_REQUIRED,
    Outcome.AUTH_FAILED,
    Outcome.NOT_FOUND,
    Outcome.REJECTED,
    Outcome.MID_STREAM_FAILURE,
    Outcome.CLIENT_CLOSED,
    Outcome.INTERNAL_ERROR,
    Outcome.SHUTDOWN,
]


def test_every_outcome_is_sorted_into_one_of_the_lists() -> None:
    assert {Outcome.SERVED, Outcome.RATE_LIMITED, *FAILURES, *SILENT} == set(Outcome)


@pytest.mark.parametrize("last", list(Answer))
def test_served_and_429_and_failures_are_answers_whatever_came_before(last: Answer) -> None:
    assert answer_after(Outcome.SERVED, last) is Answer.SERVED
    assert answer_after(Outcome.RATE_LIMITED, last) is Answer.REFUSED
    for outcome in FAILURES:
        assert answer_after(outcome, last) is Answer.FAILED


@pytest.mark.parametrize("outcome", SILENT)
@pytest.mark.parametrize("last", list(Answer))
def test_outcomes_that_say_nothing_of_the_entry_keep_its_last_answer(
    outcome: Outcome, last: Answer
) -> None:
    assert answer_after(outcome, last) is last


def test_a_served_answer_lengthens_the_run_and_a_429_or_a_failure_ends_it() -> None:
    assert served_run(Outcome.SERVED, 4) == 5
    assert served_run(Outcome.RATE_LIMITED, 4) == 0
    for outcome in FAILURES:
        assert served_run(outcome, 4) == 0
    for outcome in SILENT:
        assert served_run(outcome, 4) == 4


def test_an_unknown_entry_takes_one_probe_until_it_answers() -> None:
    gate = ProbeGate()
    assert gate.holds(Answer.NONE, known=False, in_flight=0, served=0) is None
    assert gate.holds(Answer.NONE, known=False, in_flight=1, served=0) == UNKNOWN_DETAIL
    assert gate.holds(Answer.REFUSED, known=False, in_flight=0, served=3) is None
    assert gate.holds(Answer.REFUSED, known=False, in_flight=1, served=3) == UNKNOWN_DETAIL


def test_probe_concurrency_sets_how_many_go_at_once() -> None:
    gate = ProbeGate(concurrency=3)
    assert gate.holds(Answer.NONE, known=False, in_flight=2, served=0) is None
    assert gate.holds(Answer.NONE, known=False, in_flight=3, served=0) == UNKNOWN_DETAIL
    assert gate.holds(Answer.FAILED, known=True, in_flight=2, served=0) is None
    assert gate.holds(Answer.FAILED, known=True, in_flight=3, served=0) == FAILED_DETAIL


@pytest.mark.parametrize("known", [False, True])
def test_after_a_failure_only_probes_go_even_with_limits_known(known: bool) -> None:
    gate = ProbeGate()
    assert gate.holds(Answer.FAILED, known=known, in_flight=0, served=9) is None
    assert gate.holds(Answer.FAILED, known=known, in_flight=1, served=9) == FAILED_DETAIL


@pytest.mark.parametrize("last", [Answer.NONE, Answer.SERVED, Answer.REFUSED])
def test_known_limits_admit_without_probing_unless_the_last_answer_failed(last: Answer) -> None:
    assert ProbeGate().holds(last, known=True, in_flight=500, served=0) is None


def test_an_unknown_entry_that_served_opens_up_twice_as_fast_as_it_serves() -> None:
    gate = ProbeGate()
    assert SLOW_START == 2
    for served in (1, 2, 5):
        limit = SLOW_START * served
        assert gate.holds(Answer.SERVED, known=False, in_flight=limit - 1, served=served) is None
        held = gate.holds(Answer.SERVED, known=False, in_flight=limit, served=served)
        assert held == SLOW_START_DETAIL


def test_slow_start_never_admits_fewer_than_probe_concurrency() -> None:
    gate = ProbeGate(concurrency=4)
    assert gate.holds(Answer.SERVED, known=False, in_flight=3, served=0) is None
    assert gate.holds(Answer.SERVED, known=False, in_flight=3, served=1) is None
    assert gate.holds(Answer.SERVED, known=False, in_flight=4, served=1) == SLOW_START_DETAIL
    assert gate.holds(Answer.SERVED, known=False, in_flight=5, served=3) is None


def test_a_request_that_waited_its_time_passes_a_slow_start_but_no_missing_answer() -> None:
    gate = ProbeGate()
    assert gate.holds(Answer.SERVED, known=False, in_flight=50, served=1, waited=True) is None
    held = gate.holds(Answer.NONE, known=False, in_flight=1, served=0, waited=True)
    assert held == UNKNOWN_DETAIL
    assert gate.holds(Answer.REFUSED, known=False, in_flight=1, served=0, waited=True)
    assert gate.holds(Answer.FAILED, known=True, in_flight=1, served=5, waited=True)
