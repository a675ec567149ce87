"""The private Redis the shared-state tests run against: it answers, it can be stopped and
started again on the same address mid-test (an outage), and it keeps nothing across a restart."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from tests.support.redis_server import RedisServer


async def test_the_server_stops_and_starts_again_on_the_same_url_empty(redis_server: RedisServer):
    client = redis_server.client()
    try:
        await client.set("probe", "1")
        assert await redis_server.contents() == [(b"probe", b"1")]
        url = redis_server.url

        await redis_server.stop()
        with pytest.raises(aioredis.ConnectionError):
            await client.ping()
        await redis_server.start()

        assert redis_server.url == url
        assert await client.ping()
        assert await redis_server.contents() == []
    finally:
        await client.aclose()
