"""`record_row`: a record shaped as the request log will show it once written."""

from __future__ import annotations

from chain429.usage.requestlog import record_row
from tests.support.usage_records import T0, exhausted, served


def test_a_served_record_as_a_log_row_with_its_attempts():
    row = record_row(served("r1", ttft_ms=12.5, fallen_from=("cerebras",), queued_ms=30.0))
    assert row == {
        "id": None,
        "requestId": "r1",
        "timestamp": round(T0 * 1000),
        "endpoint": "/v1/chat/completions",
        "chain": "fast",
        "requestedModel": "fast",
        "provider": "groq",
        "model": "m",
        "keyLabel": "…abcd",
        "status": 200,
        "streamed": True,
        "attemptCount": 2,
        "promptTokens": 10,
        "completionTokens": 20,
        "totalTokens": 30,
        "latencyMs": 100.0,
        "ttftMs": 12.5,
        "queuedMs": 30.0,
        "errorClass": None,
        "clientClosed": False,
        "attempts": [
            {
                "position": 0,
                "provider": "cerebras",
                "model": "m",
                "keyLabel": "…abcd",
                "outcome": "rate_limited",
                "status": 429,
                "latencyMs": 10.0,
                "waitedMs": None,
                "reason": "rate limited",
            },
            {
                "position": 1,
                "provider": "groq",
                "model": "m",
                "keyLabel": "…abcd",
                "outcome": "served",
                "status": 200,
                "latencyMs": 10.0,
                "waitedMs": None,
                "reason": "",
            },
        ],
    }


def test_a_request_no_entry_served_is_attributed_to_no_provider():
    row = record_row(exhausted("r2"))
    assert (row["provider"], row["status"], row["errorClass"]) == (None, 429, "all_exhausted")
    assert [a["outcome"] for a in row["attempts"]] == ["skipped", "rate_limited"]


def test_the_wait_for_a_probe_is_on_the_attempt_row():
    record = served("r3")
    (attempt,) = record.attempts
    row = record_row(record._replace(attempts=(attempt._replace(waited_ms=812.5),)))
    assert row["attempts"][0]["waitedMs"] == 812.5
