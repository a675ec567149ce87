"""The subscription through which a replica hears the fleet's probe answers and learned limits.

`scripts.ANSWER` and `scripts.LEARN` publish on `names.PROBE_CHANNEL` each time an entry's
answer or learned limit changes in the shared state, so requests waiting on every replica for
that answer wake as soon as it lands, with no polling. A message can be missed (the connection
drops, the subscription is being made again): `look_again` is called so the listener can look
again at whatever it waits for, each time the subscription is made, when it ends, and every
`retry_s` while it cannot be made. A node gone with the subscription need not be one the
listener's store talks to (of a Redis Cluster, the channel's node), and no answer can be heard
until it is back: the listener asks the shared state again meanwhile instead of waiting for a
message that cannot come (its store finds the outage, if any, on the way). A request waits no
longer than its `probeWaitMs` in any case.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from redis.exceptions import RedisError

from chain429.state_store import clients
from chain429.state_store.names import PROBE_CHANNEL
from chain429.state_store.redis_store import RETRY_S
from chain429.tasks import create_task

log = structlog.get_logger("chain429.state_store")


class AnswerFeed:
    """Calls `heard` with every message on `names.PROBE_CHANNEL`, and `look_again` whenever one
    may have been missed; see the module docstring."""

    def __init__(
        self,
        url: str,
        heard: Callable[[bytes], None],
        look_again: Callable[[], None],
        *,
        retry_s: float = RETRY_S,
    ) -> None:
        self._subscriber = clients.subscriber(url)
        self._heard, self._look_again, self._retry_s = heard, look_again, retry_s
        self.following = False
        """Whether the subscription is in place now (what is told meanwhile is heard)."""
        self._task: asyncio.Task[None] | None = create_task(self._follow(), name="probe-answers")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._subscriber.aclose()

    async def _follow(self) -> None:
        while asyncio.current_task() is self._task:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(PROBE_CHANNEL)
                    if asyncio.current_task() is not self._task:
                        return  # redis-py may swallow a cancel landing while it subscribes
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._heard(message["data"])
                        elif message["type"] == "subscribe":
                            self.following = True
                            self._look_again()
            except (RedisError, OSError):
                pass  # the store says when Redis is away; this follows again once it is back
            except Exception:  # a bug of ours must not end the following for good
                log.error("probe answers: following again", exc_info=True)
            self.following = False
            self._look_again()  # nothing told is heard until the subscription is made again
            await asyncio.sleep(self._retry_s)
