"""The tracker `settings.stateStore` asks for: this process's own, or one shared through
Redis (with the store it shares through, opened here and closed by the app)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chain429.clock import Clock
from chain429.config.schema import MEMORY_STORE, Config, Settings
from chain429.limits.setup import TrackerSetup, longest_attempt_s
from chain429.limits.tracker import LimitTracker

# The Redis modules (and the redis client, ~7 MiB of a process's memory) are imported only when
# settings.stateStore names Redis: the memory store, the default, never loads them.
if TYPE_CHECKING:
    from chain429.state_store.redis_store import RedisStore


def lease_s(config: Config) -> float:
    """How long a reservation holds its share: the longest attempt any provider may take,
    plus a margin (`shared_tracker.lease_length_s`)."""
    from chain429.state_store.shared_tracker import lease_length_s

    return lease_length_s(longest_attempt_s(config))


async def open_store(settings: Settings) -> RedisStore | None:
    """The started store of `settings.stateStore`, None for `memory`. An unreachable Redis is
    not an error: the proxy serves on local state until it answers."""
    if settings.state_store == MEMORY_STORE:
        return None
    from chain429.state_store.redis_store import RedisStore  # one server, or a cluster

    store = RedisStore(settings.state_store)
    await store.start()
    return store


def new_tracker(
    setup: TrackerSetup, config: Config, clock: Clock, store: RedisStore | None
) -> LimitTracker:
    if store is None:
        return LimitTracker.of(setup, clock)
    from chain429.state_store.shared_tracker import SharedTracker

    return SharedTracker.sharing(setup, clock, store, lease_s(config))
