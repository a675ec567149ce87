"""A request's walk: the attempts and notes it collects, its headers and its one record, across
the passes of queue mode (the last pass's skips, every call); token counts read from `usage`."""

from __future__ import annotations

import pytest

from chain429.config.schema import ChainEntry
from chain429.limits.state import Reservation
from chain429.limits.tracker import Skip, SkipReason
from chain429.outcome import Outcome
from chain429.redaction import Redactor
from chain429.router.attempt import AttemptResult
from chain429.router.request import ClientRequest, Endpoint
from chain429.router.walk import Walk, token_counts, usage_tokens

NOW = 1_800_000_000.0
FIRST, SECOND = ChainEntry(provider="groq", model="llama"), ChainEntry(provider="b", model="m")
COOLING = Skip(SkipReason.COOLING_DOWN, NOW + 30, "rate limited (429)")
RESERVATION = Reservation("b", 0, "…abcd", "sk-b-0000", "m")
USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}


def new_walk(stream: bool = False) -> Walk:
    request = ClientRequest("r1", Endpoint.CHAT, {}, "fast", stream, False, 1, None, NOW)
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


def test_a_wait_for_a_probe_goes_on_the_next_attempt_only() -> None:
    walk = new_walk()
    walk.probe_waited(0.5)
    walk.skipped(0, FIRST, COOLING)
    served = AttemptResult(Outcome.SERVED, status=200)
    walk.attempted(1, SECOND, RESERVATION, served, "")
    walk.probe_waited(0.25)
    walk.attempted(1, SECOND, RESERVATION, served, "")
    assert [a.waited_ms for a in walk.attempts] == [500.0, None, 250.0]


def test_a_request_that_ends_while_waiting_for_a_probe_notes_it() -> None:
    walk = new_walk()
    walk.probe_waited(1.25)
    ended = AttemptResult(Outcome.SHUTDOWN, reason="cut short by the proxy's shutdown")
    walk.left_waiting(0, FIRST, ended)
    (attempt,) = walk.attempts
    assert (attempt.provider_id, attempt.model, attempt.key_label) == ("groq", "llama", None)
    assert (attempt.outcome, attempt.status, attempt.latency_ms) == (Outcome.SHUTDOWN, None, 0.0)
    assert attempt.reason == (
        "cut short by the proxy's shutdown while waiting for the entry's first answer"
    )
    assert attempt.waited_ms == 1250.0
    assert walk.notes == []


def test_a_skip_is_an_attempt_without_a_call_and_a_note_of_when_the_entry_frees_up() -> None:
    walk = new_walk()
    walk.skipped(0, FIRST, COOLING)
    walk.skipped(1, SECOND, Skip(SkipReason.CONCURRENCY_FULL, None, "1 in flight"))
    walk.skipped(2, FIRST, Skip(SkipReason.FAILING, NOW + 5, "HTTP 500"))

    first = walk.attempts[0]
    assert (first.outcome, first.key_label, first.status, first.latency_ms) == (
        Outcome.SKIPPED,
        None,
        None,
        0.0,
    )
    assert first.reason == "rate limited (429)"
    assert [n.available_at for n in walk.notes] == [NOW + 30, NOW, NOW + 5]  # busy: free now
    assert [n.failing for n in walk.notes] == [False, False, True]
    assert walk.notes[0].summary == "skipped, cooling down (rate limited (429))"
    assert walk.notes[0].label == "groq/llama"


@pytest.mark.parametrize(
    ("outcome", "failing"),
    [
        (Outcome.RATE_LIMITED, False),
        (Outcome.PAYMENT_REQUIRED, False),
        (Outcome.REJECTED, False),
        (Outcome.SERVER_ERROR, True),
        (Outcome.TIMEOUT, True),
        (Outcome.IN_BAND_ERROR, True),
    ],
)
def test_a_failed_call_is_noted_for_the_verdict(outcome: Outcome, failing: bool) -> None:
    walk = new_walk()
    walk.attempted(1, SECOND, RESERVATION, AttemptResult(outcome, status=500), "why", NOW + 9)
    (attempt,) = walk.attempts
    assert (attempt.position, attempt.key_label, attempt.outcome) == (1, "…abcd", outcome)
    (note,) = walk.notes
    assert (note.outcome, note.summary, note.available_at, note.status) == (
        outcome,
        "why",
        NOW + 9,
        500,
    )
    assert note.failing is failing


@pytest.mark.parametrize("outcome", [Outcome.SERVED, Outcome.CLIENT_CLOSED, Outcome.SHUTDOWN])
def test_an_attempt_that_ended_the_walk_is_recorded_but_not_noted(outcome: Outcome) -> None:
    walk = new_walk()
    walk.attempted(0, SECOND, RESERVATION, AttemptResult(outcome, status=200), "")
    assert [a.outcome for a in walk.attempts] == [outcome]
    assert walk.notes == []


def test_headers_count_the_attempts_and_name_the_entry_that_served() -> None:
    walk = new_walk()
    walk.skipped(0, FIRST, COOLING)
    assert walk.headers({"Content-Type": "x"}) == {
        "Content-Type": "x",
        "X-429chain-Attempts": "1",
        "X-Request-Id": "r1",
    }
    served = walk.served_headers("b", "m", {})
    assert served["X-429chain-Attempts"] == "2"  # the serving attempt is not noted yet
    assert served["X-429chain-Provider"] == "b/m"


def test_a_served_record_names_the_entry_and_counts_its_tokens() -> None:
    walk = new_walk(stream=True)
    assert not walk.recorded
    served = AttemptResult(Outcome.SERVED, status=200, usage=USAGE)
    record = walk.served_record("b", "m", RESERVATION, served)

    assert walk.recorded
    assert (record.status, record.provider_id, record.model, record.key_label) == (
        200,
        "b",
        "m",
        "…abcd",
    )
    assert (record.prompt_tokens, record.completion_tokens, record.total_tokens) == (5, 2, 7)
    assert (record.error_class, record.client_closed, record.streamed) == (None, False, True)
    assert (record.chain, record.requested_model, record.endpoint) == (
        "fast",
        "fast",
        "/chat/completions",
    )


def test_a_committed_stream_that_ended_badly_is_recorded_under_its_outcome() -> None:
    walk = new_walk(stream=True)
    broken = AttemptResult(Outcome.MID_STREAM_FAILURE, status=200, usage=None)
    record = walk.served_record("b", "m", RESERVATION, broken)
    assert (record.status, record.error_class, record.total_tokens) == (
        200,
        "mid_stream_failure",
        None,
    )
    left = walk.served_record("b", "m", RESERVATION, AttemptResult(Outcome.CLIENT_CLOSED, 200))
    assert (left.status, left.error_class, left.client_closed) == (499, "client_closed", True)


def test_a_record_without_a_served_answer_names_the_stream_the_client_was_given() -> None:
    walk = new_walk(stream=True)
    assert walk.record(429, "all_entries_unavailable").provider_id is None
    walk.serving = ("b", "m", "…abcd")
    record = walk.record(499, "client_closed", closed=True)
    assert (record.provider_id, record.model, record.key_label) == ("b", "m", "…abcd")
    assert (record.status, record.client_closed) == (499, True)


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
    usage = {"prompt_tokens": value, "completion_tokens": value, "total_tokens": value}
    assert token_counts(usage) == (expected, expected, expected)


def test_a_missing_usage_or_count_is_none() -> None:
    assert usage_tokens(None, "prompt_tokens") is None
    assert usage_tokens({}, "prompt_tokens") is None
    assert token_counts(None) == (None, None, None)
    assert token_counts({"completion_tokens": 3}) == (None, 3, None)
