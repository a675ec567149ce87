"""`limits` events: limit and cooldown changes, found by comparing the limit state over time.

Nothing on the request path: while at least one subscriber listens to `limits`, a background
task reads the state `/api/ratelimits` shows every `interval_s` (on the app's clock) and
publishes the entries whose status, cooldown, reason or remaining quota changed, entries that
went away, the queue depth per chain and each chain's outlook (`admin.chain_outlook`), in one
event per tick with a change. The first reading is the baseline: a subscriber reads
`/api/ratelimits` for the picture, then follows the changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import structlog

from chain429.admin.chain_outlook import chain_outlooks
from chain429.admin.limits_view import TrackerLimitsView, latest_fleet_entry_views
from chain429.admin.ratelimit_routes import detailed_row
from chain429.clock import Clock
from chain429.event_hub import EventHub, EventKind
from chain429.limits.status import direct_entry_views, entry_views
from chain429.state import AppState
from chain429.tasks import create_task, stop

LIMITS_INTERVAL_S: Final = 1.0

EntryKey = tuple[str, str, str]
"""(provider, key label, model)."""

log = structlog.get_logger("chain429.admin")


@dataclass(frozen=True, slots=True)
class LimitsReading:
    """The limit state at one moment: `/api/ratelimits` rows by entry, queue depth by chain,
    and each chain's outlook (`/api/ratelimits`' `chains`: the entry it would use now)."""

    at: float
    entries: dict[EntryKey, dict[str, Any]]
    queues: dict[str, int]
    chains: list[dict[str, Any]] = field(default_factory=list)


def read_limits(state: AppState) -> LimitsReading:
    now = state.clock.now()
    in_chains = entry_views(state.config, state.tracker, now)
    local = in_chains + direct_entry_views(state.config, state.tracker, now)
    views, _ = latest_fleet_entry_views(state, local, now)
    queues = dict(TrackerLimitsView(state).queue_depths())
    return LimitsReading(
        at=now,
        entries={(v.provider, v.key_label, v.model): detailed_row(v) for v in views},
        queues=queues,
        chains=chain_outlooks(state.config, views[: len(in_chains)], queues),
    )


def _watched(row: dict[str, Any]) -> tuple[object, ...]:
    """What a change is: status, cooldown, reason, set aside, and each metric's figures."""
    metrics = tuple(
        (m["kind"], m["window"], m["scope"], m["limit"], m["remaining"]) for m in row["metrics"]
    )
    return (row["status"], row["cooldownUntil"], row["reason"], row["disabled"], metrics)


def limit_changes(before: LimitsReading, after: LimitsReading) -> dict[str, Any] | None:
    """The `limits` event's data for what changed from `before` to `after`; None if nothing.

    `entries` are the changed and new entries, whole, as `/api/ratelimits` shows them;
    `removed` names entries gone (a provider or chain removed); `queue` is every chain's depth;
    `chains` every chain's outlook, whole (a change in it alone is an event too).
    """
    changed = [
        row
        for key, row in after.entries.items()
        if key not in before.entries or _watched(before.entries[key]) != _watched(row)
    ]
    removed = [
        {"provider": provider, "keyLabel": label, "model": model}
        for provider, label, model in sorted(before.entries.keys() - after.entries.keys())
    ]
    same_chains = before.chains == after.chains
    if not changed and not removed and before.queues == after.queues and same_chains:
        return None
    return {
        "generatedAt": round(after.at * 1000),
        "entries": changed,
        "removed": removed,
        "queue": {"depth": sum(after.queues.values()), "chains": after.queues},
        "chains": after.chains,
    }


class LimitWatcher:
    """Publishes `limit_changes` every `interval_s` while started (a `Demand` of the hub)."""

    def __init__(
        self,
        hub: EventHub,
        read: Callable[[], LimitsReading],
        clock: Clock,
        interval_s: float = LIMITS_INTERVAL_S,
    ) -> None:
        self._hub = hub
        self._read = read
        self._clock = clock
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self.failures = 0

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._task = create_task(self._watch(), name="limit-events")

    def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        task, self._task = self._task, None
        await stop(task)

    async def _watch(self) -> None:
        before = self._read()
        while True:
            await self._tick()
            try:
                after = self._read()
                change = limit_changes(before, after)
            except Exception:  # a bug here must not end the events; logged once, counted
                self.failures += 1
                if self.failures == 1:
                    log.exception("limit events failed")
                continue
            if change is not None:
                self._hub.publish(EventKind.LIMITS, change)
            before = after

    async def _tick(self) -> None:
        """Wait `interval_s` on the clock (a test moves a fake clock instead of waiting)."""
        woken = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        timer = self._clock.call_at(self._clock.now() + self._interval_s, wake)
        try:
            await woken
        finally:
            timer.cancel()
