"""What the client hears when no entry served: a rejection, a 429 with Retry-After, or a 502."""

from __future__ import annotations

import orjson

from chain429.outcome import Outcome
from chain429.providers.error_body import UpstreamErrorInfo
from chain429.router.verdict import EntryNote, decide

NOW = 1_000.0


def note(label: str, outcome: Outcome, available_at: float | None, **kwargs) -> EntryNote:
    return EntryNote(label, outcome, f"{outcome.value} summary", available_at, **kwargs)


def error_of(body: bytes) -> dict:
    error = orjson.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_429_with_retry_after_until_the_earliest_entry():
    notes = [
        note("a/m", Outcome.RATE_LIMITED, NOW + 30),
        note("b/m", Outcome.SKIPPED, NOW + 12.2),
        note("c/m", Outcome.AUTH_FAILED, None),
    ]
    verdict = decide("default", notes, NOW)
    assert verdict.status == 429
    assert verdict.retry_after == 13
    error = error_of(verdict.body)
    assert error["type"] == "rate_limit_error"
    assert error["code"] == "rate_limit_exceeded"
    assert "chain 'default'" in error["message"] and "retry in 13s" in error["message"]
    for label in ("a/m", "b/m", "c/m"):
        assert f"{label}: " in error["message"]


def test_retry_after_is_at_least_one_second():
    verdict = decide("default", [note("a/m", Outcome.SKIPPED, NOW)], NOW)
    assert (verdict.status, verdict.retry_after) == (429, 1)
    verdict = decide("default", [note("a/m", Outcome.SKIPPED, NOW - 5)], NOW)
    assert verdict.retry_after == 1


def test_every_entry_rejected_gives_the_first_rejection():
    first = UpstreamErrorInfo(message="context too long", code="context_length_exceeded")
    notes = [
        note("a/m", Outcome.REJECTED, NOW, status=413, error=first),
        note("b/m", Outcome.REJECTED, NOW, status=400, error=UpstreamErrorInfo("other")),
    ]
    verdict = decide("default", notes, NOW)
    assert verdict.status == 413
    assert verdict.retry_after is None
    error = error_of(verdict.body)
    assert error["message"] == "a/m rejected the request: context too long"
    assert error["code"] == "context_length_exceeded"
    assert error["type"] == "invalid_request_error"


def test_rejection_without_a_message_or_status():
    verdict = decide("c", [note("a/m", Outcome.REJECTED, NOW)], NOW)
    assert verdict.status == 400
    assert error_of(verdict.body)["message"] == "a/m rejected the request: the request was rejected"


def test_a_rejection_and_a_cooling_entry_give_429():
    notes = [
        note("a/m", Outcome.REJECTED, NOW, status=422, error=UpstreamErrorInfo("bad param")),
        note("b/m", Outcome.RATE_LIMITED, NOW + 5),
    ]
    verdict = decide("default", notes, NOW)
    assert (verdict.status, verdict.retry_after) == (429, 5)


def test_a_rejection_and_entries_that_need_a_config_change_give_the_rejection():
    notes = [
        note("a/m", Outcome.AUTH_FAILED, None),
        note("b/m", Outcome.REJECTED, NOW, status=422, error=UpstreamErrorInfo("bad param")),
    ]
    verdict = decide("default", notes, NOW)
    assert verdict.status == 422
    assert "bad param" in error_of(verdict.body)["message"]


def test_nothing_usable_without_a_config_change_gives_502():
    notes = [note("a/m", Outcome.AUTH_FAILED, None), note("b/m", Outcome.NOT_FOUND, None)]
    verdict = decide("default", notes, NOW)
    assert (verdict.status, verdict.retry_after) == (502, None)
    error = error_of(verdict.body)
    assert error["code"] == "no_usable_entry"
    assert "a/m: auth summary" in error["message"] and "b/m: not_found summary" in error["message"]
