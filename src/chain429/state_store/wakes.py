"""Queued requests woken by capacity another replica frees (queue mode with a Redis state).

A request queued on this replica is woken by a release on this replica, or at the reset it
was told about. Capacity freed on another replica (its request ended, or an answer there
reported a window that reset early) is told by the scripts (`scripts`, "marks") on one
channel, `WAKE_CHANNEL`, only for a slot where a refused request may be waiting: each message
names the provider key's hash tag (the provider id and the key's fingerprint, never the key),
the model, and whether the capacity is the whole key's. One subscription per replica reads
them and wakes the queues of the chains that list that entry (`Waterfall.capacity_freed`);
the woken head walks its chain again and asks the shared state, as it would after a release.

Redis unreachable: the subscription is made again every `retry_s` once it answers; a wake-up
lost meanwhile costs a waiter no more than its wait until the reset it knows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import unquote

from chain429.state_store.names import WAKE_CHANNEL
from chain429.state_store.redis_store import RETRY_S
from chain429.state_store.subscription import Subscription

#: (provider id, model, whether every model of the provider's key may use it)
Wake = Callable[[str, str, bool], None]


def parse_wake(data: bytes) -> tuple[str, str, bool] | None:
    """(provider id, model, key-wide) of a message on `WAKE_CHANNEL`; None for another shape."""
    try:
        tag, model, wide = data.decode().split(" ")
    except (UnicodeDecodeError, ValueError):
        return None
    provider, separator, _fingerprint = tag.rpartition(":")
    if not separator or wide not in ("0", "1"):
        return None
    return unquote(provider), unquote(model), wide == "1"


class FleetWakes:
    """This replica's subscription to the capacity the others free; see the module docstring."""

    def __init__(self, url: str, wake: Wake, *, retry_s: float = RETRY_S) -> None:
        self._wake = wake
        self._tried = asyncio.Event()
        self._subscription = Subscription(
            url, WAKE_CHANNEL, self._woken, self._changed, what="fleet-wakes", retry_s=retry_s
        )

    async def start(self) -> None:
        """Subscribe, and return once subscribed (or once Redis did not answer: the
        subscription is then made when it does)."""
        self._subscription.start()
        await self._tried.wait()

    async def close(self) -> None:
        await self._subscription.close()

    def _changed(self, _subscribed: bool) -> None:
        self._tried.set()

    def _woken(self, data: bytes) -> None:
        parsed = parse_wake(data)
        if parsed is not None:
            provider, model, wide = parsed
            self._wake(provider, model, wide)
