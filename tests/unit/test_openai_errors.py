"""OpenAI-shaped error bodies and stream events, all built by `chain429.openai_errors`."""

from __future__ import annotations

import orjson

from chain429.openai_errors import ErrorType, error_body, error_event


def test_the_body_has_the_four_fields_sdks_read() -> None:
    body = orjson.loads(error_body("no such model", ErrorType.INVALID_REQUEST, "nope", "model"))
    assert body == {
        "error": {
            "message": "no such model",
            "type": "invalid_request_error",
            "param": "model",
            "code": "nope",
        }
    }


def test_the_stream_event_is_one_sse_data_field() -> None:
    event = error_event("upstream broke", "upstream_stream_failed")
    assert event.startswith(b"data: ") and event.endswith(b"\n\n")
    error = orjson.loads(event.removeprefix(b"data: "))["error"]
    assert (error["type"], error["code"]) == ("upstream_error", "upstream_stream_failed")
