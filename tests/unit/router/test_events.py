"""What an upstream event means before the commit point, and whole answers turned into events."""

from __future__ import annotations

import orjson
import pytest

from chain429.router.events import (
    EventKind,
    carries_usage,
    classify_event,
    completion_to_events,
    has_finish_reason,
    is_error_event,
)
from chain429.router.sse import DONE


def delta_event(delta: dict, finish: str | None = None) -> bytes:
    return orjson.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (DONE, EventKind.DONE),
        (b"<html>", EventKind.GARBAGE),
        (b"[1, 2]", EventKind.GARBAGE),
        (b'"text"', EventKind.GARBAGE),
        (b'{"error": {"message": "quota"}}', EventKind.ERROR),
        (b'{"error": "quota"}', EventKind.ERROR),
        (delta_event({"role": "assistant"}), EventKind.CONTENT),
        (delta_event({"role": "assistant", "content": ""}), EventKind.CONTENT),
        (delta_event({"content": "hi"}), EventKind.CONTENT),
        (delta_event({"reasoning_content": "hmm"}), EventKind.CONTENT),
        (delta_event({"reasoning": "hmm"}), EventKind.CONTENT),
        (delta_event({"refusal": "no"}), EventKind.CONTENT),
        (delta_event({"tool_calls": [{"index": 0, "id": "c"}]}), EventKind.CONTENT),
        (delta_event({"function_call": {"name": "f"}}), EventKind.CONTENT),
        (delta_event({}, "stop"), EventKind.CONTENT),
        (b'{"choices": [{"index": 0, "text": "legacy"}]}', EventKind.CONTENT),
        (delta_event({}), EventKind.EMPTY),
        (delta_event({"content": ""}), EventKind.EMPTY),
        (b'{"choices": []}', EventKind.EMPTY),
        (b'{"choices": [], "usage": {"total_tokens": 3}}', EventKind.EMPTY),
        (b'{"choices": ["odd"]}', EventKind.EMPTY),
        (b'{"error": null, "choices": []}', EventKind.EMPTY),
        (b"{}", EventKind.EMPTY),
    ],
)
def test_classify_event(data, kind):
    assert classify_event(data)[0] is kind


def test_an_error_alongside_choices_is_content():
    data = orjson.dumps(
        {"error": {"message": "x"}, "choices": [{"index": 0, "delta": {"content": "a"}}]}
    )
    assert classify_event(data)[0] is EventKind.CONTENT
    assert not is_error_event(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"error": {"message": "boom"}}', True),
        (b'{"error":"boom"}', True),
        (b'{"error": {}}', False),
        (b'{"choices": [], "note": "no \\"error\\" here"}', False),
        (b'"error"', False),
        (b'not json with "error"', False),
    ],
)
def test_is_error_event(data, expected):
    assert is_error_event(data) is expected


def test_has_finish_reason_and_carries_usage():
    assert has_finish_reason(delta_event({}, "stop"))
    assert has_finish_reason(b'{"finish_reason": "length"}')
    assert not has_finish_reason(delta_event({"content": "x"}))
    assert carries_usage(b'{"usage":{"total_tokens":1}}')
    assert carries_usage(b'{"usage": {"total_tokens": 1}}')
    assert not carries_usage(b'{"usage":null}')
    assert not carries_usage(b'{"usage": null}')
    assert not carries_usage(delta_event({"content": "x"}))


CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 7,
    "model": "m",
    "system_fingerprint": "fp",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "hi", "refusal": None},
            "finish_reason": "stop",
        },
        {
            "index": 1,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
                ],
            },
            "finish_reason": "tool_calls",
        },
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}


def test_chat_completion_to_events():
    events = completion_to_events(CHAT, wants_usage=True)
    assert events[-1] == DONE
    first, usage = (orjson.loads(e) for e in events[:-1])
    head = {"id": "chatcmpl-1", "created": 7, "model": "m", "system_fingerprint": "fp"}
    assert first == {
        **head,
        "object": "chat.completion.chunk",
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": "hi"},
                "finish_reason": "stop",
            },
            {
                "index": 1,
                "delta": {
                    "role": "assistant",
                    "tool_calls": [
                        {**CHAT["choices"][1]["message"]["tool_calls"][0], "index": 0},
                        {**CHAT["choices"][1]["message"]["tool_calls"][1], "index": 1},
                    ],
                },
                "finish_reason": "tool_calls",
            },
        ],
    }
    assert usage == {
        **head,
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": CHAT["usage"],
    }
    for event in events[:-1]:
        assert classify_event(event)[0] in (EventKind.CONTENT, EventKind.EMPTY)


def test_usage_event_only_when_wanted_and_known():
    assert len(completion_to_events(CHAT, wants_usage=False)) == 2
    without = {k: v for k, v in CHAT.items() if k != "usage"}
    assert len(completion_to_events(without, wants_usage=True)) == 2


def test_text_completion_to_events():
    obj = {
        "id": "cmpl-1",
        "object": "text_completion",
        "model": "m",
        "choices": [{"index": 0, "text": "legacy", "finish_reason": None}],
    }
    first = orjson.loads(completion_to_events(obj, wants_usage=False)[0])
    assert first["object"] == "text_completion"
    assert first["choices"] == [{"index": 0, "text": "legacy", "finish_reason": "stop"}]


def test_a_non_object_choice_before_a_content_choice_is_passed_over():
    data = b'{"choices":[7,{"delta":{"content":"hi"}}]}'
    assert classify_event(data)[0] is EventKind.CONTENT


def test_choices_are_numbered_by_position_unless_they_say_otherwise():
    obj = {
        "object": "text_completion",
        "choices": [
            "not a choice",
            {"text": "a"},
            {"index": 5},
            {"message": {"tool_calls": [{"id": "x"}, "odd"]}},
        ],
    }
    first = orjson.loads(completion_to_events(obj, wants_usage=False)[0])
    assert first["choices"] == [
        {"index": 1, "text": "a", "finish_reason": "stop"},
        {"index": 5, "text": "", "finish_reason": "stop"},
        {
            "index": 3,
            "delta": {"tool_calls": [{"id": "x", "index": 0}, "odd"]},
            "finish_reason": "stop",
        },
    ]
