"""What the client hears when no entry served: a rejection, a 429 with Retry-After, or a 502."""

from __future__ import annotations

import re

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain429.outcome import Outcome
from chain429.providers.error_info import UpstreamErrorInfo
from chain429.router.verdict import EntryNote, decide, retry_after_s

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
    assert "a/m: auth_failed summary" in error["message"]
    assert "b/m: not_found summary" in error["message"]


def test_every_entry_that_frees_up_later_only_failing_gives_503():
    notes = [
        note("a/m", Outcome.SERVER_ERROR, NOW + 5, status=500, failing=True),
        note("b/m", Outcome.SKIPPED, NOW + 3.2, failing=True),
        note("c/m", Outcome.AUTH_FAILED, None),
        note("d/m", Outcome.REJECTED, NOW, status=422),
    ]
    verdict = decide("default", notes, NOW)
    assert (verdict.status, verdict.retry_after) == (503, 4)
    assert verdict.error_class == "all_entries_failing"
    error = error_of(verdict.body)
    assert (error["type"], error["code"]) == ("upstream_error", "service_unavailable")
    assert "chain 'default'" in error["message"] and "retry in 4s" in error["message"]
    assert "b/m: skipped summary, free again in 4s" in error["message"]


@pytest.mark.parametrize(
    "limited",
    [
        note("b/m", Outcome.RATE_LIMITED, NOW + 60, status=429),
        note("b/m", Outcome.PAYMENT_REQUIRED, NOW + 3600, status=402),
        note("b/m", Outcome.SKIPPED, NOW + 60),
        note("b/m", Outcome.SKIPPED, NOW),
    ],
    ids=["429", "402", "skipped-exhausted", "skipped-busy"],
)
def test_any_entry_out_for_a_limit_keeps_the_429_though_a_failing_one_frees_sooner(limited):
    failing = note("a/m", Outcome.TIMEOUT, NOW + 5, failing=True)
    verdict = decide("default", [failing, limited], NOW)
    assert verdict.status == 429
    assert error_of(verdict.body)["type"] == "rate_limit_error"
    assert verdict.retry_after == (1 if limited.available_at == NOW else 5)


@pytest.mark.parametrize(
    ("notes", "status"),
    [
        ([note("b/x", Outcome.RATE_LIMITED, NOW + 9)], 429),
        ([note("b/x", Outcome.SERVER_ERROR, NOW + 5, failing=True)], 503),
        ([note("b/x", Outcome.AUTH_FAILED, None)], 502),
    ],
)
def test_a_direct_entry_is_called_an_entry_not_a_chain(notes, status):
    verdict = decide("b/x", notes, NOW, direct=True)
    assert verdict.status == status
    message = error_of(verdict.body)["message"]
    assert message.startswith("Entry 'b/x'")
    assert "chain" not in message


@pytest.mark.parametrize(
    ("offset", "seconds"),
    [(60.1, 60), (60.0, 60), (59.95, 60), (60.15, 61), (0.05, 1), (-3, 1), (7.2, 8)],
)
def test_retry_after_rounds_up_leaving_out_the_reset_margin(offset, seconds):
    assert retry_after_s(1_800_000_000.0 + offset, 1_800_000_000.0) == seconds


TIMED = st.sampled_from(
    [Outcome.SKIPPED, Outcome.RATE_LIMITED, Outcome.SERVER_ERROR, Outcome.PAYMENT_REQUIRED]
)


@given(
    st.lists(
        st.tuples(TIMED, st.floats(-5, 200_000, allow_nan=False), st.booleans()),
        min_size=1,
        max_size=6,
    ),
    st.floats(0, 2_000_000_000),
)
def test_retry_after_is_the_soonest_free_again_in_listed(entries, now):
    notes = [
        note(f"p{i}/m", outcome, now + offset, failing=failing)
        for i, (outcome, offset, failing) in enumerate(entries)
    ]
    verdict = decide("default", notes, now)
    listed = [
        int(n) for n in re.findall(r"free again in (\d+)s", error_of(verdict.body)["message"])
    ]
    assert len(listed) == len(notes)
    assert verdict.retry_after == min(listed)


def message_of(verdict) -> str:
    return error_of(verdict.body)["message"]


def test_the_429_lists_every_entry_with_when_it_frees_up():
    notes = [
        note("a/m", Outcome.RATE_LIMITED, NOW + 30),
        note("c/m", Outcome.AUTH_FAILED, None),
        note("r/m", Outcome.REJECTED, None),
    ]
    verdict = decide("default", notes, NOW)
    assert (verdict.status, verdict.retry_after, verdict.error_class) == (
        429,
        30,
        "all_entries_unavailable",
    )
    assert message_of(verdict) == (
        "No entry of chain 'default' can serve this request now; retry in 30s. "
        "Entries: a/m: rate_limited summary, free again in 30s; "
        "c/m: auth_failed summary, until the configuration changes; r/m: rejected summary"
    )


def test_an_entry_named_directly_speaks_of_itself():
    failing = [note("p/m", Outcome.SERVER_ERROR, NOW + 5.1, failing=True)]
    verdict = decide("p/m", failing, NOW, direct=True)
    assert (verdict.status, verdict.error_class) == (503, "all_entries_failing")
    assert message_of(verdict) == (
        "Entry 'p/m' cannot serve this request now: it is failing (server errors, timeouts or "
        "connection errors) and sitting out a short penalty; retry in 5s. "
        "p/m: server_error summary, free again in 5s"
    )
    verdict = decide("p/m", [note("p/m", Outcome.AUTH_FAILED, None)], NOW, direct=True)
    assert (verdict.status, verdict.error_class) == (502, "no_usable_entry")
    assert message_of(verdict) == (
        "Entry 'p/m' is usable until the configuration changes. "
        "p/m: auth_failed summary, until the configuration changes"
    )


def test_a_chain_whose_entries_all_fail_says_every_entry_is_failing():
    verdict = decide("default", [note("p/m", Outcome.TIMEOUT, NOW + 5.1, failing=True)], NOW)
    assert message_of(verdict).startswith(
        "No entry of chain 'default' can serve this request now: every entry is failing"
    )


def test_a_chain_of_unusable_entries_says_so():
    verdict = decide("default", [note("p/m", Outcome.NOT_FOUND, None)], NOW)
    assert message_of(verdict) == (
        "No entry of chain 'default' is usable until the configuration changes. "
        "Entries: p/m: not_found summary, until the configuration changes"
    )


def test_a_rejection_is_recorded_as_rejected():
    verdict = decide("default", [note("a/m", Outcome.REJECTED, None)], NOW)
    assert (verdict.status, verdict.error_class) == (400, "rejected")


def test_less_than_a_millisecond_past_a_whole_second_adds_no_second():
    assert retry_after_s(NOW + 2.10004, NOW) == 2
    assert retry_after_s(NOW + 2.10006, NOW) == 2
