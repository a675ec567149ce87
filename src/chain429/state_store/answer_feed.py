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

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from chain429.state_store.names import PROBE_CHANNEL
from chain429.state_store.redis_store import RETRY_S, TIMEOUT_S
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
        # No read timeout: the subscription waits for messages. No retry: a lost connection
        # ends the subscription, which is made again. Keepalive: a connection gone silent
        # (a partition) ends too, in time.
        self._subscriber = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=TIMEOUT_S,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
        )
        self._heard, self._ready, self._retry_s = heard, ready, retry_s
        self.following = False
        """Whether the subscription is in place now (what is told meanwhile is heard)."""
        self._task = create_task(self._follow(), name="probe-answers")

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._subscriber.aclose()

    async def _follow(self) -> None:
        while True:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(PROBE_CHANNEL)
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
