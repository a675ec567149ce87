"""A subscription to a Redis channel closes at once whenever it is closed, the moment it is
subscribing included: redis-py may swallow a cancel that lands while it connects, and a
subscription that went on listening would hold its closer for ever (a proxy that never stops,
a replica whose store never closes)."""

from __future__ import annotations

import asyncio

from chain429.state_store.answer_feed import AnswerFeed
from chain429.state_store.wakes import FleetWakes
from tests.support.redis_server import RedisServer

ROUNDS = 120


async def test_a_probe_answer_feed_closed_while_it_subscribes_closes(
    redis_server: RedisServer,
) -> None:
    for round_ in range(ROUNDS):
        feed = AnswerFeed(redis_server.url, lambda data: None, lambda: None)
        for _ in range(round_ % 40):  # land the cancel at a different step of the subscribing
            await asyncio.sleep(0)
        async with asyncio.timeout(5):
            await feed.close()


async def test_fleet_wake_ups_closed_while_they_subscribe_close(redis_server: RedisServer) -> None:
    for round_ in range(ROUNDS):
        wakes = FleetWakes(redis_server.url, lambda provider, model, wide: None)
        starting = asyncio.ensure_future(wakes.start())
        for _ in range(round_ % 40):
            await asyncio.sleep(0)
        async with asyncio.timeout(5):
            await wakes.close()
        starting.cancel()
