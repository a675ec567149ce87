"""The official openai SDK against a running proxy: answers, pass-through and error classes."""

from __future__ import annotations

import asyncio

import httpx2
import openai
import pytest

from chain429.app import AppOptions
from tests.support.client import MESSAGES
from tests.support.clock import FakeClock
from tests.support.proxy import PROVIDER_KEY, make_config
from tests.support.upstream import completion, reply, sse

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "schema": {"type": "object", "properties": {"a": {"type": "integer"}}},
        "strict": True,
    },
}
EXTRA_BODY = {"top_k": 7, "vendor_options": {"nested": [1, {"deep": None}]}}


def passthrough_fields() -> dict[str, object]:
    return {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
        ],
        "tools": TOOLS,
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "response_format": RESPONSE_FORMAT,
        "stop": ["\n\n", "END"],
        "n": 2,
        "temperature": 0.3,
        "seed": 11,
        "user": "someone",
    }


async def test_non_streaming_completion(upstream_factory, proxy_factory, client_factory):
    up = await upstream_factory(reply(body=completion("served by a", model="upstream-x")))
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    raw = await client.chat.completions.with_raw_response.create(model="default", messages=MESSAGES)
    result = raw.parse()
    assert result.choices[0].message.content == "served by a"
    assert result.model == "upstream-x"
    assert result.usage is not None and result.usage.total_tokens == 6
    assert raw.headers["x-429chain-provider"].partition("/")[0] == "a"
    assert raw.headers["x-429chain-attempts"] == "1"
    assert up.received[0]["model"] == "a-model"
    assert up.headers_seen[0]["Authorization"] == f"Bearer {PROVIDER_KEY}"


async def test_first_chunk_arrives_while_upstream_is_mid_stream(
    upstream_factory, proxy_factory, client_factory
):
    gate = asyncio.Event()
    sent_all = asyncio.Event()
    up = await upstream_factory(sse(gate=gate, gate_after=2, sent_all=sent_all))
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    stream = await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    chunks = aiter(stream)
    first = await anext(chunks)
    second = await anext(chunks)
    assert first.choices[0].delta.role == "assistant"
    assert second.choices[0].delta.content == "Hel"
    assert not sent_all.is_set(), "the upstream was still holding the rest of its stream"
    gate.set()
    rest = [c async for c in chunks]
    assert sent_all.is_set()
    assert "".join(c.choices[0].delta.content or "" for c in rest if c.choices) == "lo"
    assert rest[-1].choices[0].finish_reason == "stop"


async def test_request_fields_pass_through_untouched(
    upstream_factory, proxy_factory, client_factory
):
    up = await upstream_factory(reply())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    fields = passthrough_fields()
    await client.chat.completions.create(model="default", extra_body=EXTRA_BODY, **fields)
    received = dict(up.received[0])
    assert received.pop("model") == "a-model"
    assert received == {**fields, **EXTRA_BODY}


async def test_stream_fields_pass_through_untouched_but_usage_is_asked_for(
    upstream_factory, proxy_factory, client_factory
):
    up = await upstream_factory(sse())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    fields = passthrough_fields()
    stream = await client.chat.completions.create(
        model="default", stream=True, extra_body=EXTRA_BODY, **fields
    )
    [c async for c in stream]
    received = dict(up.received[0])
    assert received.pop("model") == "a-model"
    assert received.pop("stream_options") == {"include_usage": True}
    assert received == {**fields, **EXTRA_BODY, "stream": True}


async def test_client_stream_options_are_kept_and_extended(
    upstream_factory, proxy_factory, client_factory
):
    up = await upstream_factory(sse())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    stream = await client.chat.completions.create(
        model="default",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": False},
        extra_body={"stream_options": {"include_usage": False, "continuous_usage_stats": True}},
    )
    chunks = [c async for c in stream]
    assert up.received[0]["stream_options"] == {
        "include_usage": True,
        "continuous_usage_stats": True,
    }
    assert all(c.usage is None for c in chunks)


async def test_wrong_key_is_an_authentication_error(
    upstream_factory, proxy_factory, client_factory
):
    up = await upstream_factory(reply())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server, api_key="not-the-key")
    with pytest.raises(openai.AuthenticationError) as caught:
        await client.chat.completions.create(model="default", messages=MESSAGES)
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        await client.models.list()
    assert up.calls == 0


async def test_missing_key_is_an_authentication_error(
    upstream_factory, proxy_factory, client_factory
):
    up = await upstream_factory(reply())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    with pytest.raises(openai.AuthenticationError) as caught:
        await client.chat.completions.create(
            model="default", messages=MESSAGES, extra_headers={"Authorization": openai.omit}
        )
    assert caught.value.code == "missing_api_key"
    assert "Authorization: Bearer" in caught.value.message
    assert up.calls == 0


async def test_rate_limit_error_carries_retry_after_and_skips_cooled_entries(
    upstream_factory, proxy_factory, client_factory
):
    limited = reply(429, {"error": {"message": "slow down"}}, headers={"retry-after": "30"})
    a = await upstream_factory(limited)
    b = await upstream_factory(limited)
    config = make_config([("a", a.base_url), ("b", b.base_url)])
    clock = FakeClock()
    server = await proxy_factory(config, AppOptions(clock=clock))
    client = client_factory(server)
    with pytest.raises(openai.RateLimitError) as first:
        await client.chat.completions.create(model="default", messages=MESSAGES)
    assert first.value.response.headers["retry-after"] == "30"
    assert first.value.response.headers["x-429chain-attempts"] == "2"
    assert (a.calls, b.calls) == (1, 1)
    message = first.value.message
    assert "a/a-model" in message and "b/b-model" in message
    assert "127.0.0.1" not in message and PROVIDER_KEY not in message

    clock.advance(12)
    with pytest.raises(openai.RateLimitError) as second:
        await client.chat.completions.create(model="default", messages=MESSAGES)
    assert (a.calls, b.calls) == (1, 1), "cooling entries are skipped without a call"
    assert second.value.response.headers["retry-after"] == "18"
    assert "skipped" in second.value.message


async def test_sdk_retries_after_the_advertised_wait(
    upstream_factory, proxy_factory, client_factory
):
    """An SDK that retries reads Retry-After and comes back; the entry then serves again."""
    a = await upstream_factory(
        reply(429, {"error": {"message": "slow"}}, headers={"retry-after-ms": "50"}), reply()
    )
    server = await proxy_factory(make_config([("a", a.base_url)]))
    client = client_factory(server, max_retries=3)
    result = await client.chat.completions.create(model="default", messages=MESSAGES)
    assert result.choices[0].message.content == "hello"
    assert a.calls == 2


async def test_malformed_json_is_a_bad_request(upstream_factory, proxy_factory, client_factory):
    up = await upstream_factory(reply())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.post(
            "/chat/completions",
            cast_to=httpx2.Response,
            content=b'{"model": "default", "messages": [',
            options={"headers": {"Content-Type": "application/json"}},
        )
    assert "not valid JSON" in caught.value.message
    assert up.calls == 0


@pytest.mark.parametrize(
    ("body", "says", "param"),
    [
        ({"model": "default"}, "'messages' is required", "messages"),
        ({"model": "default", "messages": "hi"}, "'messages' must be an array", "messages"),
        ({"model": "default", "messages": {"role": "user"}}, "must be an array", "messages"),
        ({"model": "default", "messages": []}, "at least one message", "messages"),
        ({"model": "default", "messages": ["hi"]}, "'messages[0]' must be an object", None),
        ({"model": 42, "messages": MESSAGES}, "'model' must be a string", "model"),
        ({"model": ["default"], "messages": MESSAGES}, "'model' must be a string", "model"),
        ({"model": "default", "messages": MESSAGES, "stream": "yes"}, "'stream'", "stream"),
        ([{"model": "default"}], "must be a JSON object", None),
    ],
)
async def test_invalid_bodies_are_bad_requests_and_never_sent_upstream(
    upstream_factory, proxy_factory, client_factory, body, says, param
):
    up = await upstream_factory(reply())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.post("/chat/completions", cast_to=httpx2.Response, body=body)
    assert says in caught.value.message
    if param is not None:
        assert caught.value.param == param
    assert up.calls == 0


async def test_sdk_with_a_non_string_model(upstream_factory, proxy_factory, client_factory):
    up = await upstream_factory(reply())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=7, messages=MESSAGES)  # type: ignore[arg-type]  # a client bug on purpose
    assert caught.value.param == "model"
    assert up.calls == 0


async def test_stream_request_with_every_entry_exhausted_raises_rate_limit_error(
    upstream_factory, proxy_factory, client_factory
):
    a = await upstream_factory(reply(429, {"error": {"message": "x"}}, {"retry-after": "3"}))
    server = await proxy_factory(make_config([("a", a.base_url)]), AppOptions(clock=FakeClock()))
    client = client_factory(server)
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.response.headers["content-type"].startswith("application/json")
