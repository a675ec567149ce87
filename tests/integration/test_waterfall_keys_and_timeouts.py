"""A provider with several keys, and a stream idle timeout shorter than the request timeout."""

from __future__ import annotations

import asyncio

import openai
import pytest

from chain429.app import AppOptions
from chain429.upstream_http import AiohttpUpstream
from tests.support.proxy import make_config
from tests.support.upstream import reply, sse

MESSAGES = [{"role": "user", "content": "hi"}]
LIMITED = {"error": {"message": "rate limited", "type": "rate_limit"}}


async def test_a_429_on_one_key_tries_the_next_key_of_the_same_entry(
    upstream_factory, proxy_factory, client_factory
):
    keyed = await upstream_factory(reply(429, LIMITED, {"retry-after": "60"}), reply())
    later = await upstream_factory(reply())
    config = make_config(
        [("multi", keyed.base_url), ("later", later.base_url)],
        provider_extra={"multi": {"apiKeys": ["sk-second-key-22222222"]}},
    )
    client = client_factory(await proxy_factory(config))
    raw = await client.chat.completions.with_raw_response.create(model="default", messages=MESSAGES)
    assert raw.headers["x-429chain-provider"].partition("/")[0] == "multi"
    assert raw.headers["x-429chain-attempts"] == "2"
    used = [h["Authorization"] for h in keyed.headers_seen]
    assert used[0] != used[1] and used[1] == "Bearer sk-second-key-22222222"
    assert later.calls == 0


async def test_stream_idle_timeout_shorter_than_request_timeout_ends_the_stream(
    upstream_factory, proxy_factory, client_factory
):
    up = await upstream_factory(sse(hang_after=2))
    config = make_config(
        [("a", up.base_url)], settings={"requestTimeoutMs": 30_000, "streamIdleTimeoutMs": 300}
    )
    client = client_factory(await proxy_factory(config))
    stream = await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIError, match="sent nothing"):
        async with asyncio.timeout(10):
            async for _ in stream:
                pass


async def test_an_unexpected_error_is_an_openai_shaped_500(upstream_factory, proxy_factory, http):
    class Broken(AiohttpUpstream):
        async def send(self, *args, **kwargs):
            raise RuntimeError("boom")

    up = await upstream_factory(reply())
    server = await proxy_factory(
        make_config([("a", up.base_url)]),
        AppOptions(upstream_factory=lambda: Broken(AiohttpUpstream.create()._session)),
    )
    async with http.post(
        f"{server.url}/v1/chat/completions",
        json={"model": "default", "messages": MESSAGES},
        headers={"Authorization": "Bearer test-client-key-0001"},
    ) as response:
        assert response.status == 500
        body = await response.json()
    assert body["error"]["code"] == "internal_error"
    assert "boom" not in body["error"]["message"]
