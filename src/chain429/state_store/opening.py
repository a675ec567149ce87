"""The tracker `settings.stateStore` asks for: this process's own, or one shared through
Redis (with the store it shares through, opened here and closed by the app)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chain429.clock import Clock
from chain429.config.cluster_url import is_cluster_url
from chain429.config.schema import MEMORY_STORE, Config, Settings
from chain429.limits.setup import TrackerSetup
from chain429.limits.tracker import LimitTracker

# The Redis modules (and the redis client, ~7 MiB of a process's memory) are imported only when
# settings.stateStore names Redis: the memory store, the default, never loads them.
if TYPE_CHECKING:
    from chain429.state_store.store import StateStore


def lease_s(config: Config) -> float:
    """How long a reservation holds its share: the longest attempt any provider may take,
    plus a margin."""
    from chain429.state_store.shared_tracker import LEASE_MARGIN_S

    timeouts = [p.timeout for p in config.providers if p.timeout is not None]
    longest_ms = max([config.settings.request_timeout_ms, *timeouts])
    return longest_ms / 1000 + LEASE_MARGIN_S


async def open_store(settings: Settings) -> StateStore | None:
    """The started store of `settings.stateStore`, None for `memory`. An unreachable Redis is
    not an error: the proxy serves on local state until it answers."""
    if settings.state_store == MEMORY_STORE:
        return None
    store: StateStore
    if is_cluster_url(settings.state_store):
        from chain429.state_store.cluster_store import ClusterStore

        store = ClusterStore(settings.state_store)
    else:
        from chain429.state_store.redis_store import RedisStore

        store = RedisStore(settings.state_store)
    await store.start()
    return store


def new_tracker(
    setup: TrackerSetup, config: Config, clock: Clock, store: StateStore | None
) -> LimitTracker:
    if store is None:
        return LimitTracker.of(setup, clock)
    from chain429.state_store.shared_tracker import SharedTracker

    return SharedTracker.sharing(setup, clock, store, lease_s(config))
