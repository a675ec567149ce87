from __future__ import annotations

from tests.support.proxy import make_config
from tests.support.upstream import reply, sse


async def test_non_stream_and_stream_served(upstream_factory, proxy_factory, client_factory):
    up = await upstream_factory(reply(), sse())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    raw = await client.chat.completions.with_raw_response.create(
        model="default", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.parse().choices[0].message.content == "hello"
    assert raw.headers["x-429chain-provider"] == "a/a-model"
    assert raw.headers["x-429chain-attempts"] == "1"
    stream = await client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Hello"
