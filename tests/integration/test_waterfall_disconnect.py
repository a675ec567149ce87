"""A client that goes away cancels its upstream call: the upstream sees its connection closed
within a second, and the reservation is released (with `concurrentRequests: 1`, a follow-up
request could not be admitted otherwise)."""

from __future__ import annotations

import asyncio

import aiohttp

from chain429.tasks import create_task
from tests.support.client import MESSAGES, chat, chat_body
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.upstream import hang, ok, slow_json, sse

ONE_AT_A_TIME = {"a": {"rateLimits": {"concurrentRequests": 1}}}


async def test_stream_disconnect_closes_the_upstream(
    upstream_factory, proxy_factory, client_factory, http
):
    up = await upstream_factory(sse(hang_after=2), ok("again"))
    server = await proxy_factory(make_config([("a", up.base_url)], provider_extra=ONE_AT_A_TIME))
    client = client_factory(server)
    stream = await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    first = await anext(aiter(stream))
    assert first.choices[0].delta.role == "assistant"
    await stream.close()
    await asyncio.wait_for(up.disconnected.wait(), 1.0)
    follow_up = await chat(http, server)
    assert follow_up.status == 200, follow_up.body
    assert follow_up.json()["choices"][0]["message"]["content"] == "again"


async def test_raw_stream_disconnect_closes_the_upstream(upstream_factory, proxy_factory, http):
    gate = asyncio.Event()
    up = await upstream_factory(sse(gate=gate, gate_after=3), ok("again"))
    server = await proxy_factory(make_config([("a", up.base_url)], provider_extra=ONE_AT_A_TIME))
    response = await http.post(
        f"{server.url}/v1/chat/completions",
        json=chat_body(stream=True),
        headers={"Authorization": f"Bearer {CLIENT_KEY}"},
    )
    assert response.status == 200
    assert (await response.content.readuntil(b"\n\n")).startswith(b"data: ")
    response.close()
    await asyncio.wait_for(up.disconnected.wait(), 1.0)
    follow_up = await chat(http, server, stream=True)
    assert follow_up.status == 200
    assert follow_up.events()[-1] == b"[DONE]"


async def test_non_stream_disconnect_closes_the_upstream(
    upstream_factory, proxy_factory, client_factory, http
):
    up = await upstream_factory(hang(), ok("again"))
    server = await proxy_factory(make_config([("a", up.base_url)], provider_extra=ONE_AT_A_TIME))
    client = client_factory(server)
    pending = create_task(
        client.chat.completions.create(model="default", messages=MESSAGES), name="client"
    )
    await up.request_seen.wait()
    pending.cancel()
    await asyncio.wait_for(up.disconnected.wait(), 1.0)
    assert pending.cancelled()
    follow_up = await chat(http, server)
    assert follow_up.status == 200, follow_up.body


async def test_raw_non_stream_disconnect_while_upstream_is_slow(
    upstream_factory, proxy_factory, http
):
    up = await upstream_factory(slow_json(30), ok("again"))
    server = await proxy_factory(make_config([("a", up.base_url)], provider_extra=ONE_AT_A_TIME))
    async with aiohttp.ClientSession() as other:
        pending = create_task(chat(other, server), name="client")
        await up.request_seen.wait()
        pending.cancel()
        await asyncio.wait_for(up.disconnected.wait(), 1.0)
    follow_up = await chat(http, server)
    assert follow_up.status == 200


async def test_concurrency_limit_holds_while_a_request_is_in_flight(
    upstream_factory, proxy_factory, http
):
    """The other side of the release test: while one request holds the only slot, a second
    one is turned away without an upstream call."""
    gate = asyncio.Event()
    up = await upstream_factory(sse(gate=gate, gate_after=2), ok())
    server = await proxy_factory(make_config([("a", up.base_url)], provider_extra=ONE_AT_A_TIME))
    response = await http.post(
        f"{server.url}/v1/chat/completions",
        json=chat_body(stream=True),
        headers={"Authorization": f"Bearer {CLIENT_KEY}"},
    )
    await response.content.readuntil(b"\n\n")
    busy = await chat(http, server)
    assert busy.status == 429
    assert "concurren" in busy.error["message"]
    assert up.calls == 1
    gate.set()
    await response.read()
    response.release()
    assert (await chat(http, server)).status == 200


async def test_stream_disconnect_before_the_commit_point(upstream_factory, proxy_factory, http):
    """The client leaves while the upstream has not produced content yet (no byte has gone to
    the client): the upstream call is cancelled all the same."""
    up = await upstream_factory(hang(), ok("again"))
    server = await proxy_factory(make_config([("a", up.base_url)], provider_extra=ONE_AT_A_TIME))
    async with aiohttp.ClientSession() as other:
        pending = create_task(chat(other, server, stream=True), name="client")
        await up.request_seen.wait()
        pending.cancel()
        await asyncio.wait_for(up.disconnected.wait(), 1.0)
    follow_up = await chat(http, server, stream=True)
    assert follow_up.status == 200
