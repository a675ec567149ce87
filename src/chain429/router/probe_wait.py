"""Waiting for a probe's answer: what a request does at an entry that admits only probes.

The tracker answers a request that reaches an entry whose probes are all out with a `probing`
skip (see `limits.probe`). Rather than fall through at once, which would push a cold-start
burst onto the later entries (often paid ones), the request waits for an answer on that entry,
up to `settings.probeWaitMs` of the configuration it walks on, and asks again: it is admitted
against what the answer taught, skipped for what it taught (a 429, a failure), or waits on
while new probes are out. It is woken by an answer (a recorded outcome or a stream's commit) or
a release (a probe whose client left frees its place) on the entry, or by its deadline, on the
injected clock. A waiting request that is cancelled leaves nothing behind.

With replicas sharing limit state, the probes an entry waits for may be another replica's (the
shared state's gate answers `probing` too, see `state_store.shared_tracker`): the request
asks the shared state again each time it asks, and is also woken by an answer that reaches this
process from another one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import TypeGuard

from chain429.clock import Clock
from chain429.config.schema import ProviderConfig
from chain429.limits.state import Reservation
from chain429.limits.tracker import Demand, LimitTracker, Skip, SkipReason

Entry = tuple[str, str]
"""(provider id, model)."""


def is_probing(admitted: Reservation | Skip) -> TypeGuard[Skip]:
    """Whether admission answered that the entry admits only probes, all of them out."""
    return isinstance(admitted, Skip) and admitted.reason is SkipReason.PROBING


class ProbeWaits:
    """The requests waiting for an answer, per entry; see the module docstring."""

    def __init__(self, tracker: LimitTracker, clock: Clock) -> None:
        self._tracker = tracker
        self._clock = clock
        self._waiting: dict[Entry, set[asyncio.Event]] = {}
        tracker.on_answer(self._wake)
        tracker.on_release(self._wake)
        tracker.on_answer_elsewhere(self._wake_entry)

    def waiting(self, provider_id: str, model: str) -> int:
        """How many requests wait on (`provider_id`, `model`) now."""
        return len(self._waiting.get((provider_id, model), ()))

    async def wait(
        self,
        skip: Skip,
        provider: ProviderConfig,
        model: str,
        demand: Demand,
        wait_s: float,
        waited: Callable[[float], None],
    ) -> Reservation | Skip:
        """After admission answered `skip` (`probing`): wait for an answer on the entry and
        ask again, until admitted, skipped for another reason, or `wait_s` is up (then one
        last time as a request that waited, which a slow start lets go and a missing answer
        does not). `waited` is told the seconds spent waiting, however it ends."""
        admitted: Reservation | Skip = skip
        if wait_s <= 0:
            return admitted
        clock = self._clock
        started = clock.now()
        deadline = started + wait_s
        key = (provider.id, model)
        event = asyncio.Event()
        self._waiting.setdefault(key, set()).add(event)
        timer = clock.call_at(deadline, event.set)
        try:
            while True:
                await event.wait()
                event.clear()
                late = clock.now() >= deadline
                asked = replace(demand, waited=True) if late else demand
                admitted = await self._ask(provider, model, asked)
                if late or not is_probing(admitted):
                    break
        finally:
            timer.cancel()
            self._leave(key, event)
            waited(clock.now() - started)
        return admitted

    async def _ask(
        self, provider: ProviderConfig, model: str, demand: Demand
    ) -> Reservation | Skip:
        """Admission again, confirmed by the state replicas share when there is one (whose
        probes may be another replica's: then this request waits on for their answer)."""
        tracker = self._tracker
        admitted = tracker.admit(provider, model, demand)
        if tracker.shared and not isinstance(admitted, Skip):
            admitted = await tracker.admit_shared(admitted, demand)
        return admitted

    def _leave(self, key: Entry, event: asyncio.Event) -> None:
        events = self._waiting.get(key)
        if events is not None:
            events.discard(event)
            if not events:
                del self._waiting[key]

    def _wake(self, reservation: Reservation) -> None:
        # Called on every release and answer: the loop is repeated here rather than one more
        # call per request to `_wake_entry`.
        for event in self._waiting.get((reservation.provider_id, reservation.model), ()):
            event.set()

    def _wake_entry(self, provider_id: str, model: str) -> None:
        for event in self._waiting.get((provider_id, model), ()):
            event.set()
