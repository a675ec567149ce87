"""`POST /api/test`: one prompt through the real waterfall, answered whole or streamed, with
the serving entry, every attempt, tokens and timings; the waterfall's own error when no entry
serves."""

from __future__ import annotations

import asyncio

import pytest

from chain429.app import AppOptions
from chain429.outcome import Outcome
from tests.support.client import send
from tests.support.named_events import named_events
from tests.support.polling import eventually
from tests.support.proxy import ADMIN_KEY, PROVIDER_KEY, make_config
from tests.support.upstream import completion, ok, reply, sse, standard_events
from tests.support.usage_records import MemorySink

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
RATE_LIMITED = {"error": {"message": "slow down", "type": "rate_limit", "code": "rate_limited"}}


@pytest.fixture
async def start(upstream_factory, proxy_factory):
    """Upstreams `a` and `b` (each with its script) behind a proxy whose default chain is
    a then b; the proxy's usage records go to the returned sink."""

    async def started(a, b=None, **config):
        upstreams = {"a": await upstream_factory(*a), "b": await upstream_factory(*(b or [ok()]))}
        sink = MemorySink()
        urls = [(name, u.base_url) for name, u in upstreams.items()]
        server = await proxy_factory(make_config(urls, admin=True, **config), AppOptions(sink=sink))
        return server, upstreams, sink

    return started


async def test_a_prompt_is_served_by_the_chain_with_every_detail(start, http):
    server, upstreams, sink = await start([ok("Hello there")])

    answer = await send(
        http, server, "/api/test", {"chain": "default", "prompt": "Hi?"}, key=ADMIN_KEY
    )

    assert answer.status == 200
    body = answer.json()
    assert body["requestId"].startswith("test_")
    assert answer.headers["X-Request-Id"] == body["requestId"]
    assert answer.headers["X-429chain-Provider"] == "a/a-model"
    assert body["chain"] == "default"
    assert body["status"] == 200
    assert body["text"] == "Hello there"
    assert body["servedBy"] == {"provider": "a", "model": "a-model", "keyLabel": "…3456"}
    (attempt,) = body["attempts"]
    assert {k: attempt[k] for k in ("position", "provider", "model", "outcome", "status")} == {
        "position": 0,
        "provider": "a",
        "model": "a-model",
        "outcome": "served",
        "status": 200,
    }
    assert attempt["latencyMs"] >= 0 and attempt["keyLabel"] == "…3456"
    assert body["tokens"] == {"prompt": 5, "completion": 1, "total": 6}
    assert body["latencyMs"] >= attempt["latencyMs"]
    assert body["ttftMs"] is None and body["queuedMs"] is None
    assert upstreams["a"].received[0]["messages"] == [{"role": "user", "content": "Hi?"}]
    assert upstreams["b"].calls == 0
    (record,) = sink.records
    assert record.request_id == body["requestId"] and record.status == 200


async def test_fall_through_shows_each_attempt_with_its_reason(start, http):
    server, upstreams, _ = await start([reply(429, RATE_LIMITED, {"retry-after": "30"})])

    body = (await send(http, server, "/api/test", {"prompt": "Hi?"}, key=ADMIN_KEY)).json()

    assert [(a["provider"], a["outcome"], a["status"]) for a in body["attempts"]] == [
        ("a", "rate_limited", 429),
        ("b", "served", 200),
    ]
    assert "slow down" in body["attempts"][0]["reason"]
    assert body["servedBy"]["provider"] == "b"


@pytest.mark.parametrize(
    "target",
    [{"entry": "b/other-model"}, {"provider": "b", "model": "other-model"}],
    ids=["entry", "provider-and-model"],
)
async def test_one_entry_is_addressed_alone(start, http, target):
    server, upstreams, _ = await start([ok()])

    body = (await send(http, server, "/api/test", {**target, "maxTokens": 7}, key=ADMIN_KEY)).json()

    assert body["chain"] == "b/other-model"
    assert body["servedBy"]["model"] == "other-model"
    assert upstreams["a"].calls == 0
    sent = upstreams["b"].received[0]
    assert (sent["model"], sent["max_tokens"]) == ("other-model", 7)
    assert sent["messages"] == [{"role": "user", "content": "Say hello in one word."}]


async def test_messages_go_upstream_as_given(start, http):
    server, upstreams, _ = await start([ok()])
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi?", "name": "tester"},
    ]

    answer = await send(http, server, "/api/test", {"messages": messages}, key=ADMIN_KEY)

    assert answer.status == 200
    assert upstreams["a"].received[0]["messages"] == messages


async def test_a_temperature_goes_upstream_and_is_left_out_when_not_given(start, http):
    server, upstreams, _ = await start([ok()])

    body = {"prompt": "Hi?", "temperature": 0.3}
    await send(http, server, "/api/test", body, key=ADMIN_KEY)
    await send(http, server, "/api/test", {"prompt": "Hi?"}, key=ADMIN_KEY)

    first, second = upstreams["a"].received
    assert first["temperature"] == 0.3
    assert "temperature" not in second


async def test_a_reasoning_only_answer_gives_its_reasoning_as_text(start, http):
    thought = completion("")
    thought["choices"][0]["message"]["reasoning_content"] = "Thinking it over"
    server, _, _ = await start([reply(body=thought)], settings={"normalizeResponses": False})

    body = (await send(http, server, "/api/test", {}, key=ADMIN_KEY)).json()

    assert body["text"] == "Thinking it over"


async def test_an_exhausted_chain_answers_the_waterfalls_verdict_with_the_attempts(start, http):
    limited = reply(429, RATE_LIMITED, {"retry-after": "30"})
    server, upstreams, sink = await start([limited], [limited])
    await send(http, server, "/api/test", {}, key=ADMIN_KEY)  # both entries now cool down for 30 s

    answer = await send(http, server, "/api/test", {}, key=ADMIN_KEY)

    assert answer.status == 429
    assert 29 <= int(answer.headers["Retry-After"]) <= 30
    body = answer.json()
    assert body["error"]["type"] == "rate_limit_error"
    assert body["error"]["code"] == "rate_limit_exceeded"
    assert "retry in" in body["error"]["message"]
    assert body["status"] == 429 and body["servedBy"] is None and body["text"] is None
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [
        ("a", "skipped"),
        ("b", "skipped"),
    ]
    assert (upstreams["a"].calls, upstreams["b"].calls) == (1, 1)
    assert [r.status for r in sink.records] == [429, 429]


async def test_the_stream_delivers_text_before_the_upstream_finishes(start, http):
    gate, sent_all = asyncio.Event(), asyncio.Event()
    trickling = sse(standard_events(["Hel", "lo"]), gate=gate, gate_after=2, sent_all=sent_all)
    server, _, sink = await start([trickling])

    seen: list[tuple[str, object]] = []
    async with http.post(
        f"{server.url}/api/test", json={"prompt": "Hi?", "stream": True}, headers=AUTH
    ) as response:
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        assert response.headers["X-429chain-Provider"] == "a/a-model"
        request_id = response.headers["X-Request-Id"]
        async for name, data in named_events(response):
            seen.append((name, data))
            if data == {"text": "Hel", "reasoning": False}:
                assert not sent_all.is_set()  # the upstream holds the rest until the gate opens
                gate.set()

    assert [name for name, _ in seen] == ["delta", "delta", "result"]
    assert seen[1][1] == {"text": "lo", "reasoning": False}
    result = seen[-1][1]
    assert isinstance(result, dict)
    assert result["text"] == "Hello"
    assert result["status"] == 200
    assert result["servedBy"]["provider"] == "a"
    assert result["tokens"] == {"prompt": 5, "completion": 2, "total": 7}
    assert result["ttftMs"] is not None and result["ttftMs"] <= result["latencyMs"]
    assert result["requestId"] == request_id
    assert sink.records[0].streamed is True


async def test_a_stream_that_breaks_mid_way_sends_an_error_event_then_the_result(start, http):
    server, _, _ = await start([sse(drop_after=2)])

    async with http.post(f"{server.url}/api/test", json={"stream": True}, headers=AUTH) as response:
        seen = [event async for event in named_events(response)]

    names = [name for name, _ in seen]
    assert names == ["delta", "error", "result"]
    assert seen[1][1]["error"]["code"] == "upstream_stream_failed"
    result = seen[2][1]
    assert result["text"] == "Hel"
    assert result["attempts"][0]["outcome"] == "mid_stream_failure"


async def test_a_stream_that_fails_before_any_text_is_a_json_error(start, http):
    broken = reply(500, {"error": {"message": "down"}})
    server, _, _ = await start([broken], [broken])

    answer = await send(http, server, "/api/test", {"stream": True}, key=ADMIN_KEY)

    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.status == 503
    assert answer.json()["error"]["code"] == "service_unavailable"
    assert [a["outcome"] for a in answer.json()["attempts"]] == ["server_error", "server_error"]


async def test_reasoning_deltas_are_marked(start, http):
    events = [
        b'{"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Hmm"}}]}',
        b'{"choices":[{"index":0,"delta":{"content":"Yes"},"finish_reason":"stop"}]}',
        b"[DONE]",
    ]
    server, _, _ = await start([sse(events)], settings={"normalizeResponses": False})

    async with http.post(f"{server.url}/api/test", json={"stream": True}, headers=AUTH) as response:
        seen = [event async for event in named_events(response)]

    assert seen[:2] == [
        ("delta", {"text": "Hmm", "reasoning": True}),
        ("delta", {"text": "Yes", "reasoning": False}),
    ]
    assert seen[2][1]["text"] == "Yes"


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({"chain": "nope"}, 404, "chain_not_found", None),
        ({"entry": "nobody/m"}, 404, "provider_not_found", "provider"),
        ({"provider": "nobody", "model": "m"}, 404, "provider_not_found", "provider"),
        ({"entry": "no-slash"}, 422, "invalid_body", "entry"),
        ({"provider": "a"}, 422, "invalid_body", None),
        ({"chain": "default", "entry": "a/m"}, 422, "invalid_body", None),
        (
            {"prompt": "x", "messages": [{"role": "user", "content": "y"}]},
            422,
            "invalid_body",
            None,
        ),
        ({"messages": []}, 422, "invalid_body", "messages"),
        ({"messages": [{"content": "no role"}]}, 422, "invalid_body", "messages[0].role"),
        ({"maxTokens": 0}, 422, "invalid_body", "maxTokens"),
        ({"temperature": 2.5}, 422, "invalid_body", "temperature"),
        ({"stream": "yes please"}, 422, "invalid_body", "stream"),
        ({"colour": "blue"}, 422, "invalid_body", "colour"),
        ([1, 2], 422, "invalid_body", None),
    ],
)
async def test_bad_requests_are_refused_before_any_call(start, http, body, status, code, param):
    server, upstreams, sink = await start([ok()])

    answer = await send(http, server, "/api/test", body, key=ADMIN_KEY)

    assert answer.status == status, answer.body
    assert (answer.error["code"], answer.error["param"]) == (code, param)
    assert upstreams["a"].calls == 0 and not sink.records


async def test_a_body_that_is_not_json_is_a_400(start, http):
    server, _, _ = await start([ok()])

    answer = await send(http, server, "/api/test", b"{not json", key=ADMIN_KEY)

    assert answer.status == 400
    assert answer.error["code"] == "invalid_json"


async def test_the_route_needs_a_client_key(start, http):
    server, upstreams, _ = await start([ok()])

    answer = await send(http, server, "/api/test", {}, key=None)

    assert answer.status == 401
    assert upstreams["a"].calls == 0


async def test_no_provider_key_in_any_answer(start, http):
    server, _, _ = await start([reply(401, {"error": {"message": f"bad key {PROVIDER_KEY}"}})])

    whole = await send(http, server, "/api/test", {}, key=ADMIN_KEY)
    async with http.post(f"{server.url}/api/test", json={"stream": True}, headers=AUTH) as r:
        streamed = await r.read()

    for text in (whole.body, streamed):
        assert PROVIDER_KEY[-8:].encode() not in text
    assert whole.json()["attempts"][0]["outcome"] == "auth_failed"


async def test_a_client_that_leaves_a_streamed_test_ends_its_record(start, http):
    # The upstream goes silent after the first words; once the idle timeout ends the stream,
    # the error event finds the client gone.
    server, _, sink = await start([sse(hang_after=2)], settings={"streamIdleTimeoutMs": 300})

    async with http.post(f"{server.url}/api/test", json={"stream": True}, headers=AUTH) as response:
        async for name, _ in named_events(response):
            assert name == "delta"
            break

    record = await eventually(lambda: sink.records[0] if sink.records else None)
    assert (record.status, record.client_closed) == (499, True)
    assert record.attempts[0].outcome is Outcome.CLIENT_CLOSED
