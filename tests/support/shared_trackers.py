"""Trackers that share a Redis (or a Redis Cluster) as replicas do, each over its own store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.setup import TrackerSetup
from chain429.state_store.redis_store import RedisStore
from chain429.state_store.shared_tracker import SharedTracker
from tests.support.clock import FakeClock

Replica = Callable[[], Awaitable[SharedTracker]]


@asynccontextmanager
async def tracker_replicas(
    url: str, clock: FakeClock, policy: CooldownPolicy, lease_s: float
) -> AsyncIterator[Replica]:
    """Makes started trackers sharing `url` (retrying every 10 ms when it goes away); their
    stores are closed on the way out."""
    stores: list[RedisStore] = []

    async def make() -> SharedTracker:
        store = RedisStore(url, retry_s=0.01)  # one server, or a cluster
        await store.start()
        stores.append(store)
        return SharedTracker.sharing(TrackerSetup(policy), clock, store, lease_s)

    try:
        yield make
    finally:
        for store in stores:
            await store.close()
