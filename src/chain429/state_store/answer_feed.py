"""The subscription through which a replica hears the fleet's probe answers and learned limits.

`scripts.ANSWER` and `scripts.LEARN` publish on `names.PROBE_CHANNEL` each time an entry's
answer or learned limit changes in the shared state, so requests waiting on every replica for
that answer wake as soon as it lands, with no polling. A message can be missed (the connection
drops, the subscription is being made again): each time the subscription is made, `ready` is
called so the listener can look again at whatever it waits for; a request waits no longer than
its `probeWaitMs` in any case.
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
    """Calls `heard` with every message on `names.PROBE_CHANNEL` and `ready` each time the
    subscription is (again) in place; see the module docstring."""

    def __init__(
        self,
        url: str,
        heard: Callable[[bytes], None],
        ready: Callable[[], None],
        *,
        retry_s: float = RETRY_S,
    ) -> None:
        self._subscriber = clients.subscriber(url)
        self._heard, self._ready, self._retry_s = heard, ready, retry_s
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
                            self._ready()
            except (RedisError, OSError):
                pass  # the store says when Redis is away; this follows again once it is back
            except Exception:  # a bug of ours must not end the following for good
                log.error("probe answers: following again", exc_info=True)
            self.following = False
            await asyncio.sleep(self._retry_s)
