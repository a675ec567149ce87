"""The fleet's limit state for the status views, read from Redis at most once a second.

Reading is for the dashboard and `/v1/ratelimits`, never for the request path: admission
keeps its own scripts (`shared_tracker`). One reading runs `fleet_view.READ` once per
provider key slot of the configuration, in one pipeline, and serves every view asking within
`MAX_AGE_S`, so any number of dashboards polling cost Redis one round trip a second. Views
that cannot wait (the `limits` events' reading, which is synchronous) take the last reading
and ask for a new one in the background. A reading older than `STALE_AFTER_S` (Redis stopped
answering), or Redis unavailable to the limit state, and the views are this replica's own:
`local`, as `/health` says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import structlog
from redis.exceptions import RedisError

from chain429.clock import Clock, wall_offset
from chain429.config.keys import key_label
from chain429.config.schema import Config
from chain429.limits.status import EntryView
from chain429.limits.tracker import LimitTracker
from chain429.state_store.clients import Client
from chain429.state_store.fleet_view import READ, SlotReading, fleet_entry
from chain429.state_store.names import SlotKeys
from chain429.state_store.shared_tracker import provider_key_slot
from chain429.tasks import create_task, stop

log = structlog.get_logger("chain429.state_store")

#: A reading this recent serves every view asking.
MAX_AGE_S: Final = 1.0
#: A reading older than this is not shown: the views are the replica's own meanwhile.
STALE_AFTER_S: Final = 5.0
SHARED: Final = "shared"
LOCAL: Final = "local"


@dataclass(frozen=True, slots=True)
class _Reading:
    at: float
    """When it was read (`time.monotonic`)."""
    slots: dict[tuple[str, str], SlotKeys]
    """(provider id, key label) -> the keys of its slot."""
    states: dict[SlotKeys, SlotReading]


class FleetLimits:
    """Lays the fleet's limit state over this replica's views; see the module docstring."""

    def __init__(
        self,
        client: Client,
        available: Callable[[], bool],
        config: Callable[[], Config],
        tracker: Callable[[], LimitTracker],
        clock: Clock,
    ) -> None:
        self._client = client
        self._available = available
        self._config = config
        self._tracker = tracker
        self._clock = clock
        self._reading: _Reading | None = None
        self._task: asyncio.Task[None] | None = None
        self._failed = False
        #: Readings made (each one round trip to Redis, one script per slot).
        self.reads = 0

    async def refresh(self) -> None:
        """Read again unless the last reading is under `MAX_AGE_S` old (one reading at a time,
        however many ask)."""
        task = self._start()
        if task is not None:
            await asyncio.shield(task)

    def refresh_soon(self) -> None:
        """`refresh` in the background."""
        self._start()

    def merged(self, views: list[EntryView], now: float) -> tuple[list[EntryView], str]:
        """`views` (this replica's, at `now`) with the fleet's state laid over them, and
        `shared`; or `views` as they are and `local` when there is no recent reading."""
        reading = self._reading
        if (
            not self._available()
            or reading is None
            or time.monotonic() - reading.at > STALE_AFTER_S
        ):
            return views, LOCAL
        offset = wall_offset(self._clock)
        merged = []
        for view in views:
            keys = reading.slots.get((view.provider, view.key_label))
            state = reading.states.get(keys) if keys is not None else None
            merged.append(view if state is None else fleet_entry(view, state, now, offset))
        return merged, SHARED

    async def close(self) -> None:
        task, self._task = self._task, None
        await stop(task)

    def _start(self) -> asyncio.Task[None] | None:
        reading = self._reading
        if not self._available():
            return None
        if reading is not None and time.monotonic() - reading.at <= MAX_AGE_S:
            return None
        if self._task is None or self._task.done():
            self._task = create_task(self._read(), name="fleet-limits")
        return self._task

    async def _read(self) -> None:
        config, tracker = self._config(), self._tracker()
        slots = {
            (provider.id, key_label(api_key, index)): provider_key_slot(
                tracker, provider.id, api_key
            )
            for provider in config.providers
            for index, api_key in enumerate(provider.keys)
        }
        unique = list(dict.fromkeys(slots.values()))
        wall = self._clock.wall()
        self.reads += 1
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for keys in unique:
                    pipe.eval(READ, len(keys), *keys, wall)
                answers = await pipe.execute()
            parsed = zip(unique, map(SlotReading.parse, answers), strict=True)
            states = dict(parsed)
        except (RedisError, OSError) as exc:
            if not self._failed:
                log.warning("fleet limits not read: showing this replica's own", error=str(exc))
            self._failed = True
            self._reading = None  # views are this replica's own until Redis answers again
            return
        self._failed = False
        self._reading = _Reading(time.monotonic(), slots, states)
