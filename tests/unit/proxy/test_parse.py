"""Client bodies: what routing reads, what is wrong with invalid ones, and the rest untouched."""

from __future__ import annotations

import orjson
import pytest

from chain429.proxy.parse import BadRequest, parse_request
from chain429.router.request import Endpoint

MESSAGES = [{"role": "user", "content": "hi"}]


def chat(**body) -> bytes:
    return orjson.dumps({"model": "default", "messages": MESSAGES, **body})


def test_routing_fields_are_read_and_the_body_kept_whole():
    raw = chat(
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=50,
        tools=[{"type": "function"}],
        custom={"x": 1},
    )
    request = parse_request(raw, Endpoint.CHAT)
    assert request.model == "default"
    assert request.stream is True
    assert request.wants_usage is True
    assert request.max_tokens == 50
    assert request.endpoint is Endpoint.CHAT
    assert request.body == orjson.loads(raw)
    assert request.estimated_tokens >= len(raw) // 4
    assert request.request_id.startswith("req_")
    assert parse_request(raw, Endpoint.CHAT).request_id != request.request_id


def test_defaults():
    request = parse_request(orjson.dumps({"messages": MESSAGES}), Endpoint.CHAT)
    assert request.model is None
    assert (request.stream, request.wants_usage, request.max_tokens) == (False, False, None)


@pytest.mark.parametrize("body", [{"messages": MESSAGES}, {"model": "", "messages": MESSAGES}])
def test_a_required_model_that_is_missing_or_empty_is_named(body):
    with pytest.raises(BadRequest) as caught:
        parse_request(orjson.dumps(body), Endpoint.CHAT, require_model=True)
    assert caught.value.param == "model"
    assert "'model' is required" in caught.value.message
    assert parse_request(chat(), Endpoint.CHAT, require_model=True).model == "default"


@pytest.mark.parametrize(
    "options", [{"include_usage": False}, {"include_usage": "yes"}, "include_usage", None]
)
def test_usage_is_wanted_only_when_asked_exactly(options):
    request = parse_request(chat(stream=True, stream_options=options), Endpoint.CHAT)
    assert request.wants_usage is False


def test_max_completion_tokens_wins_over_max_tokens():
    request = parse_request(chat(max_completion_tokens=9, max_tokens=50), Endpoint.CHAT)
    assert request.max_tokens == 9


@pytest.mark.parametrize(
    ("raw", "says", "param"),
    [
        (b"", "empty", None),
        (b"{", "not valid JSON", None),
        (b"\xff\xfe", "not valid JSON", None),
        (b"[]", "must be a JSON object", None),
        (b"null", "must be a JSON object", None),
        (orjson.dumps({"model": "m"}), "'messages' is required", "messages"),
        (orjson.dumps({"messages": None}), "must be an array", "messages"),
        (orjson.dumps({"messages": "hi"}), "must be an array", "messages"),
        (orjson.dumps({"messages": []}), "at least one message", "messages"),
        (orjson.dumps({"messages": [MESSAGES[0], 3]}), "'messages[1]' must be an object", None),
        (chat(model=3), "'model' must be a string", "model"),
        (chat(model={"name": "x"}), "'model' must be a string", "model"),
        (chat(stream="true"), "'stream' must be a boolean", "stream"),
        (chat(stream=1), "'stream' must be a boolean", "stream"),
        (chat(max_tokens=-1), "'max_tokens' must be a non-negative integer", "max_tokens"),
        (chat(max_tokens="10"), "'max_tokens'", "max_tokens"),
        (chat(max_tokens=True), "'max_tokens'", "max_tokens"),
        (chat(max_completion_tokens=1.5), "'max_completion_tokens'", "max_completion_tokens"),
    ],
)
def test_invalid_chat_bodies(raw, says, param):
    with pytest.raises(BadRequest) as caught:
        parse_request(raw, Endpoint.CHAT)
    assert says in caught.value.message
    if param is not None:
        assert caught.value.param == param


def test_completions_need_a_prompt_not_messages():
    request = parse_request(orjson.dumps({"prompt": ["a", "b"]}), Endpoint.COMPLETIONS)
    assert request.endpoint is Endpoint.COMPLETIONS
    with pytest.raises(BadRequest, match="'prompt' is required"):
        parse_request(orjson.dumps({"messages": MESSAGES}), Endpoint.COMPLETIONS)
    with pytest.raises(BadRequest, match="'prompt' must be a string or an array"):
        parse_request(orjson.dumps({"prompt": {"a": 1}}), Endpoint.COMPLETIONS)
