"""One Redis channel followed for as long as its owner wants it: subscribed again every
`retry_s` after a loss, each message handed to `heard`, and `changed` told each time the
subscription is in place (True: what is published from then on is heard) and each time it is
lost or could not be made (False). Used by the probe answers (`answer_feed`) and the queue
wake-ups (`wakes`).

redis-py may swallow a cancel that lands while it subscribes; the loop would then go on
listening and its closer wait for ever. So the loop also ends as soon as it is no longer its
subscription's current task (`close` clears it before cancelling).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

import structlog
from redis.exceptions import RedisError

from chain429.state_store import clients
from chain429.state_store.redis_store import RETRY_S
from chain429.tasks import create_task, stop

log = structlog.get_logger("chain429.state_store")

#: What ends a subscription without being a bug: the state store says when Redis is away.
_OUTAGE: Final = (RedisError, OSError)


class Subscription:
    """See the module docstring. Follows once `start` is called, until `close`."""

    def __init__(
        self,
        url: str,
        channel: str,
        heard: Callable[[bytes], None],
        changed: Callable[[bool], None],
        *,
        what: str,
        retry_s: float = RETRY_S,
    ) -> None:
        self._client = clients.subscriber(url)
        self._channel, self._heard, self._changed = channel, heard, changed
        self._what, self._retry_s = what, retry_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = create_task(self._follow(), name=self._what)

    async def close(self) -> None:
        task, self._task = self._task, None
        await stop(task)
        await self._client.aclose()

    async def _follow(self) -> None:
        while asyncio.current_task() is self._task:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    if asyncio.current_task() is not self._task:
                        return  # a cancel redis-py swallowed while it subscribed
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._heard(message["data"])
                        elif message["type"] == "subscribe":
                            self._changed(True)
            except _OUTAGE:
                pass
            except Exception:  # a bug of ours must not end the following for good
                log.error(f"{self._what}: subscribing again", exc_info=True)
            self._changed(False)
            await asyncio.sleep(self._retry_s)
