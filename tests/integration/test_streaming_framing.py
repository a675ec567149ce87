"""Every SSE framing an upstream may use reaches the client as one clean OpenAI stream."""

from __future__ import annotations

import orjson
import pytest

from tests.support.client import MESSAGES, chat
from tests.support.proxy import make_config
from tests.support.upstream import (
    Behaviour,
    chunk,
    completion,
    reply,
    sse,
    standard_events,
    text_events,
    usage_chunk,
)

WORDS = ["The ", "quick ", "brown\nfox", " — ünïcode ✓"]
TEXT = "".join(WORDS)
INDENTED = [
    orjson.dumps(orjson.loads(e), option=orjson.OPT_INDENT_2) for e in standard_events(WORDS)[:-1]
]
NO_DONE = standard_events(WORDS)[:-1]


def variants() -> list[tuple[str, Behaviour]]:
    events = standard_events(WORDS)
    cases = [
        ("lf", sse(events)),
        ("crlf", sse(events, newline=b"\r\n")),
        ("cr", sse(events, newline=b"\r")),
        ("no-space", sse(events, space=False)),
        ("crlf-no-space", sse(events, newline=b"\r\n", space=False)),
        ("comments", sse(events, prefix=b": OPENROUTER PROCESSING\n\n", keepalive=b": ping\n")),
        ("keepalive-blank", sse(events, keepalive=b": keep-alive\n\n")),
        ("multi-line-data", sse([*INDENTED, b"[DONE]"])),
        ("multi-line-crlf", sse([*INDENTED, b"[DONE]"], newline=b"\r\n")),
        ("no-trailing-blank", sse(events, trailing_blank=False)),
        ("no-done", sse(NO_DONE)),
        ("no-done-no-trailing-blank", sse(NO_DONE, trailing_blank=False)),
        ("no-done-crlf-cut", sse(NO_DONE, newline=b"\r\n", trailing_blank=False)),
        ("event-and-id-fields", sse(events, keepalive=b"event: message\nid: 7\nretry: 10\n")),
    ]
    cases += [(f"pieces-{n}", sse(events, pieces=n)) for n in range(1, 8)]
    cases += [(f"crlf-pieces-{n}", sse(events, newline=b"\r\n", pieces=n)) for n in (1, 2, 3)]
    return cases


VARIANTS = variants()


@pytest.mark.parametrize("behaviour", [b for _, b in VARIANTS], ids=[n for n, _ in VARIANTS])
async def test_framing_variant_streams_cleanly(
    upstream_factory, proxy_factory, client_factory, behaviour
):
    up = await upstream_factory(behaviour)
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    stream = await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    chunks = [c async for c in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


@pytest.mark.parametrize("name", ["lf", "no-done", "pieces-3", "multi-line-data"])
async def test_client_framing_is_canonical(upstream_factory, proxy_factory, http, name):
    """Whatever the upstream framing, the client gets `data: {json}\\n\\n` events and [DONE]."""
    behaviour = dict(VARIANTS)[name]
    up = await upstream_factory(behaviour)
    server = await proxy_factory(make_config([("a", up.base_url)]))
    answer = await chat(http, server, stream=True)
    assert answer.headers["Content-Type"] == "text/event-stream"
    frames = answer.body.split(b"\n\n")
    assert frames[-1] == b""
    assert frames[-2] == b"data: [DONE]"
    for frame in frames[:-2]:
        assert frame.startswith(b"data: ") and b"\n" not in frame
        orjson.loads(frame[6:])


async def test_upstream_answering_json_to_a_stream_request(
    upstream_factory, proxy_factory, client_factory
):
    up = await upstream_factory(reply(body=completion("whole answer")))
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    stream = await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    chunks = [c async for c in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "whole answer"
    assert chunks[0].object == "chat.completion.chunk"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


async def test_json_answer_to_a_stream_request_keeps_tool_calls(
    upstream_factory, proxy_factory, client_factory
):
    body = completion("")
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
            }
        ],
    }
    body["choices"][0]["finish_reason"] = "tool_calls"
    up = await upstream_factory(reply(body=body))
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    stream = await client.chat.completions.create(
        model="default", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = [c async for c in stream]
    call = chunks[0].choices[0].delta.tool_calls[0]
    assert (call.index, call.id, call.function.name) == (0, "call_1", "get_weather")
    assert chunks[0].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 6


@pytest.mark.parametrize(
    "behaviour",
    [sse(), reply(body=completion("Hello"))],
    ids=["sse-upstream", "json-upstream"],
)
async def test_include_usage_reaches_only_clients_that_asked(
    upstream_factory, proxy_factory, client_factory, behaviour
):
    up = await upstream_factory(behaviour)
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)

    plain = await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    plain_chunks = [c async for c in plain]
    assert all(c.usage is None for c in plain_chunks)
    assert all(c.choices for c in plain_chunks), "no usage-only chunk for a client that did not ask"

    asked = await client.chat.completions.create(
        model="default", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    asked_chunks = [c async for c in asked]
    assert asked_chunks[-1].choices == []
    assert asked_chunks[-1].usage is not None and asked_chunks[-1].usage.total_tokens > 0
    assert all(body["stream_options"] == {"include_usage": True} for body in up.received)


async def test_usage_on_a_content_chunk_is_stripped_not_dropped(
    upstream_factory, proxy_factory, client_factory
):
    """Some providers put `usage` on the last content chunk: a client that did not ask keeps
    the content and loses only the usage."""
    last = chunk({"content": "!"}, "stop")
    last["usage"] = usage_chunk()["usage"]
    events = [orjson.dumps(chunk({"role": "assistant", "content": "Hi"})), orjson.dumps(last)]
    up = await upstream_factory(sse([*events, b"[DONE]"]))
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    stream = await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    chunks = [c async for c in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hi!"
    assert all(c.usage is None for c in chunks)


async def test_legacy_completions_stream_framings(upstream_factory, proxy_factory, client_factory):
    up = await upstream_factory(sse(text_events(), newline=b"\r\n", pieces=2))
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    stream = await client.completions.create(model="default", prompt="say", stream=True)
    chunks = [c async for c in stream]
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Hello"


REASONING_EVENTS = [
    orjson.dumps(chunk({"role": "assistant", "content": ""})),
    orjson.dumps(chunk({"content": None, "reasoning_content": "Think"})),
    orjson.dumps(chunk({"content": "", "reasoning_content": "ing"})),
    orjson.dumps(chunk({}, "stop")),
    b"[DONE]",
]


@pytest.mark.parametrize("normalize", [True, False])
async def test_normalize_responses_moves_reasoning_into_content(
    upstream_factory, proxy_factory, http, normalize
):
    reasoned = completion("")
    reasoned["choices"][0]["message"] = {"role": "assistant", "content": "", "reasoning": "why"}
    up = await upstream_factory(sse(REASONING_EVENTS), reply(body=reasoned))
    config = make_config([("a", up.base_url)], settings={"normalizeResponses": normalize})
    server = await proxy_factory(config)
    streamed = await chat(http, server, stream=True)
    deltas = [c["choices"][0]["delta"] for c in streamed.chunks()]
    whole = (await chat(http, server)).json()["choices"][0]["message"]
    if normalize:
        assert "".join(d.get("content") or "" for d in deltas) == "Thinking"
        assert all("reasoning_content" not in d for d in deltas)
        assert whole == {"role": "assistant", "content": "why"}
    else:
        assert "".join(d.get("reasoning_content") or "" for d in deltas) == "Thinking"
        assert whole == reasoned["choices"][0]["message"]
