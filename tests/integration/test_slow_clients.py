"""Slow clients (issue 16): a request head sent a byte at a time, or a body that never ends,
is cut after `settings.clientTimeoutMs`, before it reaches a chain; a body that is slow but
whole in time is served."""

from __future__ import annotations

import asyncio
import itertools

import orjson

from chain429.state import STATE
from tests.support.client import chat_body
from tests.support.proxy import ADMIN_KEY, make_config
from tests.support.raw_http import closed_within, read_answer, request_head
from tests.support.upstream import ok

CLIENT_TIMEOUT_MS = 300
#: How long a test waits for what the client timeout should cause: many times the timeout, so
#: a loaded machine does not fail it, and far below what the slow client would take.
CUT_WITHIN_S = 5.0
#: The pace of a slow client: one byte per this, while watching for the server closing.
DRIP_S = 0.05


async def slow_proxy(upstream_factory, proxy_factory, timeout_ms: int = CLIENT_TIMEOUT_MS):
    up = await upstream_factory(ok())
    config = make_config([("a", up.base_url)], settings={"clientTimeoutMs": timeout_ms}, admin=True)
    return up, await proxy_factory(config)


async def test_a_head_sent_a_byte_at_a_time_is_cut(upstream_factory, proxy_factory):
    up, server = await slow_proxy(upstream_factory, proxy_factory)
    head = request_head(server, "/v1/chat/completions", content_length=10)
    # A head that never ends: header lines after header lines, a byte every DRIP_S.
    endless = itertools.chain(head[:-2], itertools.cycle(b"X-Slow: 1\r\n"))
    reader, writer = await asyncio.open_connection(server.host, server.port)
    closed = False
    try:
        async with asyncio.timeout(CUT_WITHIN_S):
            for byte in endless:
                writer.write(bytes([byte]))
                await writer.drain()
                if closed := await closed_within(reader, DRIP_S):
                    break
    except (ConnectionResetError, BrokenPipeError):
        closed = True  # the server closed while a byte was on its way
    except TimeoutError:
        pass
    finally:
        writer.close()
    assert closed, f"a head still arriving was not cut within {CUT_WITHIN_S:g}s"
    assert up.calls == 0


async def test_a_body_that_never_ends_gets_a_408_and_reaches_no_chain(
    upstream_factory, proxy_factory
):
    up, server = await slow_proxy(upstream_factory, proxy_factory)
    body = orjson.dumps(chat_body())
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(request_head(server, "/v1/chat/completions", content_length=len(body)))
        writer.write(body[: len(body) // 2])
        await writer.drain()
        async with asyncio.timeout(CUT_WITHIN_S):
            answer = await read_answer(reader)
        assert answer.status == 408
        assert answer.error["code"] == "request_timeout"
        assert "clientTimeoutMs" in str(answer.error["message"])
        assert answer.headers["Connection"] == "close"
        assert await closed_within(reader, CUT_WITHIN_S)
    finally:
        writer.close()
    assert up.calls == 0
    assert len(server.app[STATE].waterfall.in_flight) == 0


async def test_the_management_api_cuts_a_body_that_never_ends(upstream_factory, proxy_factory):
    _, server = await slow_proxy(upstream_factory, proxy_factory)
    before = server.app[STATE].config
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        body = b'{"queueMode": true}'
        head = request_head(
            server, "/api/settings", content_length=len(body), method="PATCH", key=ADMIN_KEY
        )
        writer.write(head + body[:5])
        await writer.drain()
        async with asyncio.timeout(CUT_WITHIN_S):
            answer = await read_answer(reader)
        assert answer.status == 408
        assert answer.error["code"] == "request_timeout"
    finally:
        writer.close()
    assert server.app[STATE].config is before


async def test_a_slow_body_whole_within_the_timeout_is_served(upstream_factory, proxy_factory):
    up, server = await slow_proxy(upstream_factory, proxy_factory, timeout_ms=3000)
    body = orjson.dumps(chat_body())
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(request_head(server, "/v1/chat/completions", content_length=len(body)))
        writer.write(body[:10])
        await writer.drain()
        # The handler waits for the rest: nothing comes back meanwhile.
        assert not await closed_within(reader, 2 * DRIP_S)
        writer.write(body[10:])
        await writer.drain()
        async with asyncio.timeout(CUT_WITHIN_S):
            answer = await read_answer(reader)
    finally:
        writer.close()
    assert answer.status == 200
    assert orjson.loads(answer.body)["choices"][0]["message"]["content"] == "hello"
    assert up.calls == 1


async def test_a_kept_alive_connection_idle_for_the_timeout_is_closed(
    upstream_factory, proxy_factory
):
    _, server = await slow_proxy(upstream_factory, proxy_factory)
    body = orjson.dumps(chat_body())
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(request_head(server, "/v1/chat/completions", content_length=len(body)) + body)
        await writer.drain()
        async with asyncio.timeout(CUT_WITHIN_S):
            answer = await read_answer(reader)
        assert answer.status == 200
        assert answer.headers.get("Connection", "keep-alive").lower() != "close"
        assert await closed_within(reader, CUT_WITHIN_S)
    finally:
        writer.close()
