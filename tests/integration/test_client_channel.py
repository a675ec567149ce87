"""The client channel over a real aiohttp server on 127.0.0.1: an answer reaches the client
whole as soon as the router gives it, while the handler (the bookkeeping after an answer) has
yet to return, and the connection then serves the next request; small writes leave at once."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from chain429.proxy.channel import AiohttpChannel
from chain429.server import start_server

Answer = Callable[[AiohttpChannel], Awaitable[None]]


async def reply(channel: AiohttpChannel) -> None:
    await channel.reply(200, b'{"ok":true}', {"Content-Type": "application/json"})


async def stream(channel: AiohttpChannel) -> None:
    await channel.start_stream({"Content-Type": "text/event-stream"})
    await channel.write(b"data: one\n\n")
    await channel.end_stream()


@pytest.fixture
async def held() -> AsyncIterator[asyncio.Event]:
    """Set once the client has read its answer: the handlers wait for it before returning."""
    event = asyncio.Event()
    yield event
    event.set()


async def read_twice(answer: Answer, held: asyncio.Event) -> list[bytes]:
    """Two requests on one keep-alive connection, each answered by `answer` from a handler that
    returns only after the client has read the body."""

    async def handler(request: web.Request) -> web.StreamResponse:
        channel = AiohttpChannel(request, 30.0)
        await answer(channel)
        await held.wait()
        assert channel.response is not None
        return channel.response

    app = web.Application()
    app.router.add_post("/", handler)
    server = await start_server(app, "127.0.0.1", 0)
    bodies = []
    try:
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(2):
                held.clear()
                async with asyncio.timeout(10), session.post(server.url + "/") as response:
                    bodies.append(await response.read())
                held.set()
    finally:
        held.set()
        await server.stop()
    return bodies


async def test_a_reply_reaches_the_client_before_the_handler_returns(held) -> None:
    assert await read_twice(reply, held) == [b'{"ok":true}'] * 2


async def test_an_ended_stream_reaches_the_client_before_the_handler_returns(held) -> None:
    assert await read_twice(stream, held) == [b"data: one\n\n"] * 2


async def test_the_client_facing_socket_sends_small_writes_at_once() -> None:
    """TCP_NODELAY: an SSE event is a small write, and Nagle would hold it for an ACK."""

    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        sock = request.transport.get_extra_info("socket")
        return web.Response(text=str(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))

    app = web.Application()
    app.router.add_get("/", handler)
    server = await start_server(app, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session, session.get(server.url + "/") as response:
            assert await response.text() != "0"
    finally:
        await server.stop()


async def test_a_stream_sends_its_headers_with_its_first_events() -> None:
    """One send for the status line, the headers and the first events (one wake-up of the
    client, not two): nothing reaches the client between `start_stream` and the first write."""
    started, go = asyncio.Event(), asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        channel = AiohttpChannel(request, 30.0)
        await channel.start_stream({"Content-Type": "text/event-stream"})
        started.set()
        await go.wait()
        await channel.write(b"data: one\n\n")
        await channel.end_stream()
        assert channel.response is not None
        return channel.response

    app = web.Application()
    app.router.add_post("/", handler)
    server = await start_server(app, "127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.setblocking(False)
            await loop.sock_sendall(
                sock, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
            )
            async with asyncio.timeout(10):
                await started.wait()
            with pytest.raises(BlockingIOError):  # loopback delivers a send before it returns
                sock.recv(1)
            go.set()
            answer = b""
            async with asyncio.timeout(10):
                while not answer.endswith(b"0\r\n\r\n"):
                    answer += await loop.sock_recv(sock, 65536)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"\r\n\r\nb\r\ndata: one\n\n\r\n0\r\n\r\n" in answer
    finally:
        go.set()
        await server.stop()
