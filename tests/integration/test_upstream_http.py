"""The upstream clients (aiohttp's, and pyreqwest's) against a real server on 127.0.0.1:
error bodies are read whole, up to a cap, however many TCP writes they arrive in; a stream's
read timeout counts only time spent waiting for it, not time the router spent not reading."""

from __future__ import annotations

import asyncio

import pytest

from chain429.errors import UpstreamTimeoutError
from chain429.router.upstream import MAX_ERROR_BODY_BYTES, Timeouts, read_and_release
from chain429.runner import upstream_factory as client_factory
from tests.support.upstream import completion, ok, reply, sse, standard_events, trickle

TIMEOUTS = Timeouts(connect_s=5.0, read_s=5.0)


@pytest.fixture(params=["aiohttp", "pyreqwest"])
def client_name(request: pytest.FixtureRequest) -> str:
    return request.param


async def read_error_body(upstream_factory, client_name: str, payload: bytes) -> bytes:
    up = await upstream_factory(trickle(429, payload, pieces=5, pause_s=0.02))
    client = client_factory(client_name)()
    try:
        response = await client.send(f"{up.base_url}/chat/completions", {}, b"{}", TIMEOUTS)
        return await read_and_release(response)
    finally:
        await client.close()


async def test_an_error_body_in_pieces_is_read_to_its_end(upstream_factory, client_name):
    payload = b'{"error": {"message": "' + b"x" * 5000 + b' try again in 7.66s"}}'
    assert await read_error_body(upstream_factory, client_name, payload) == payload


async def test_an_error_body_longer_than_the_cap_is_cut_at_the_cap(upstream_factory, client_name):
    payload = bytes(range(256)) * (3 * MAX_ERROR_BODY_BYTES // 256)
    body = await read_error_body(upstream_factory, client_name, payload)
    assert body == payload[:MAX_ERROR_BODY_BYTES]


async def test_a_cookie_an_upstream_sets_is_never_sent_on_a_later_call(
    upstream_factory, client_name
):
    """One session serves every client and key: a cookie one answer sets (a provider's CDN
    does) must not ride along with the next call, which may be another client's. By name, not
    by address: aiohttp's jar keeps no cookie of a bare IP address."""
    set_cookie = {"Set-Cookie": "session=of-the-first-caller; Path=/"}
    up = await upstream_factory(reply(200, completion(), headers=set_cookie), ok())
    client = client_factory(client_name)()
    try:
        for _ in range(2):
            url = f"http://localhost:{up.port}/v1/chat/completions"
            await read_and_release(await client.send(url, {}, b"{}", TIMEOUTS))
    finally:
        await client.close()
    assert up.calls == 2
    assert "Cookie" not in up.headers_seen[1]


#: A read timeout short enough that a test pausing past it stays fast.
SHORT_READ = Timeouts(connect_s=5.0, read_s=0.2)


async def test_a_pause_in_reading_a_stream_is_no_read_timeout(upstream_factory, client_name):
    """The router not reading (its client reads slowly) is not the upstream going silent."""
    sent_all = asyncio.Event()
    up = await upstream_factory(sse(standard_events(), sent_all=sent_all))
    client = client_factory(client_name)()
    try:
        response = await client.send(f"{up.base_url}/chat/completions", {}, b"{}", SHORT_READ)
        chunks = aiter(response.chunks())
        received = [await anext(chunks)]
        await asyncio.wait_for(sent_all.wait(), 5)
        # The router busy writing to a slow client: this pause is the behaviour under test.
        await asyncio.sleep(3 * SHORT_READ.read_s)
        received += [chunk async for chunk in chunks]
        response.release()
    finally:
        await client.close()
    assert b"".join(received).rstrip().endswith(b"data: [DONE]")


async def test_a_stream_silent_for_the_read_timeout_times_out(upstream_factory, client_name):
    up = await upstream_factory(sse(standard_events(), hang_after=2))
    client = client_factory(client_name)()
    try:
        response = await client.send(f"{up.base_url}/chat/completions", {}, b"{}", SHORT_READ)
        with pytest.raises(UpstreamTimeoutError):
            async with asyncio.timeout(5):
                async for _ in response.chunks():
                    pass
        response.close()
    finally:
        await client.close()
