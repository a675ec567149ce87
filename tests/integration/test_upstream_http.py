"""The upstream client against a real server on 127.0.0.1: error bodies are read whole, up to
a cap, however many TCP writes they arrive in."""

from __future__ import annotations

from chain429.router.upstream import MAX_ERROR_BODY_BYTES, Timeouts, read_and_release
from chain429.upstream_http import AiohttpUpstream
from tests.support.upstream import trickle

TIMEOUTS = Timeouts(connect_s=5.0, read_s=5.0)


async def read_error_body(upstream_factory, payload: bytes) -> bytes:
    up = await upstream_factory(trickle(429, payload, pieces=5, pause_s=0.02))
    client = AiohttpUpstream.create()
    try:
        response = await client.send(f"{up.base_url}/chat/completions", {}, b"{}", TIMEOUTS)
        return await read_and_release(response)
    finally:
        await client.close()


async def test_an_error_body_in_pieces_is_read_to_its_end(upstream_factory):
    payload = b'{"error": {"message": "' + b"x" * 5000 + b' try again in 7.66s"}}'
    assert await read_error_body(upstream_factory, payload) == payload


async def test_an_error_body_longer_than_the_cap_is_cut_at_the_cap(upstream_factory):
    payload = bytes(range(256)) * (3 * MAX_ERROR_BODY_BYTES // 256)
    assert await read_error_body(upstream_factory, payload) == payload[:MAX_ERROR_BODY_BYTES]
