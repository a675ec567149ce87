"""`limits` events: changes between two readings, and the watcher that reads on the clock
only while someone listens."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from chain429.admin.limit_events import LimitsReading, LimitWatcher, limit_changes
from chain429.event_hub import EventHub, EventKind, Subscription
from tests.support.clock import FakeClock
from tests.support.polling import eventually

T0 = 1_800_000_000.0
KEY = ("groq", "…abcd", "m")


def row(
    status: str = "available",
    *,
    remaining: int | None = None,
    cooldown_until: int | None = None,
    reason: str | None = None,
    in_flight: int = 0,
    updated_at: int = 0,
) -> dict[str, Any]:
    metrics = []
    if remaining is not None:
        metrics.append(
            {
                "kind": "requests",
                "window": "minute",
                "scope": "model",
                "limit": 30,
                "remaining": remaining,
                "inFlight": in_flight,
                "resetAt": None,
                "source": "header",
                "updatedAt": updated_at,
                "raw": {},
            }
        )
    return {
        "provider": KEY[0],
        "keyLabel": KEY[1],
        "model": KEY[2],
        "status": status,
        "cooldownUntil": cooldown_until,
        "reason": reason,
        "disabled": None,
        "inFlight": in_flight,
        "metrics": metrics,
    }


def reading(
    entries: dict[tuple[str, str, str], dict[str, Any]] | None = None,
    queues: dict[str, int] | None = None,
    at: float = T0,
    chains: list[dict[str, Any]] | None = None,
) -> LimitsReading:
    return LimitsReading(at=at, entries=entries or {}, queues=queues or {}, chains=chains or [])


def outlook(provider: str | None, free_at: int | None = None) -> dict[str, Any]:
    return {
        "name": "default",
        "isDefault": True,
        "queued": 0,
        "next": None if provider is None else {"provider": provider, "model": "m"},
        "freeAt": free_at,
    }


def test_nothing_changed_is_no_event():
    before = reading({KEY: row(remaining=5)}, {"default": 0})
    assert limit_changes(before, reading({KEY: row(remaining=5)}, {"default": 0})) is None


def test_in_flight_counts_and_update_times_alone_are_no_change():
    before = reading({KEY: row(remaining=5)})
    after = reading({KEY: row(remaining=5, in_flight=2, updated_at=99)})
    assert limit_changes(before, after) is None


@pytest.mark.parametrize(
    "changed",
    [
        row("exhausted", cooldown_until=1, reason="rate limited (429)"),
        row("tracking", remaining=4),
        row(reason="another reason"),
    ],
)
def test_a_changed_entry_is_sent_whole_with_the_queue(changed: dict[str, Any]):
    before = reading({KEY: row(remaining=5)}, {"default": 0})
    change = limit_changes(before, reading({KEY: changed}, {"default": 0}, at=T0 + 1))
    assert change == {
        "generatedAt": round((T0 + 1) * 1000),
        "entries": [changed],
        "removed": [],
        "queue": {"depth": 0, "chains": {"default": 0}},
        "chains": [],
    }


def test_new_and_removed_entries():
    other = ("cerebras", "…wxyz", "n")
    change = limit_changes(reading({KEY: row()}), reading({other: row()}))
    assert change is not None
    assert change["entries"] == [row()]
    assert change["removed"] == [{"provider": "groq", "keyLabel": "…abcd", "model": "m"}]


def test_a_queue_depth_change_alone_is_an_event():
    change = limit_changes(reading(queues={"default": 0}), reading(queues={"default": 3}))
    assert change is not None
    assert change["entries"] == [] and change["queue"] == {"depth": 3, "chains": {"default": 3}}


def test_a_chain_outlook_change_alone_is_an_event_with_every_chain():
    first = reading(chains=[outlook("groq")])
    assert limit_changes(first, reading(chains=[outlook("groq")])) is None
    change = limit_changes(first, reading(chains=[outlook("cerebras")]))
    assert change is not None
    assert change["entries"] == [] and change["chains"] == [outlook("cerebras")]
    waiting = limit_changes(first, reading(chains=[outlook(None, free_at=5_000)]))
    assert waiting is not None and waiting["chains"] == [outlook(None, free_at=5_000)]


class Readings:
    """Hands out readings in turn (the last one repeats), counting reads."""

    def __init__(self, *script: LimitsReading | Exception) -> None:
        self.script = list(script)
        self.reads = 0

    def __call__(self) -> LimitsReading:
        item = self.script[min(self.reads, len(self.script) - 1)]
        self.reads += 1
        if isinstance(item, Exception):
            raise item
        return item


async def limits_events(subscription: Subscription) -> list[dict[str, Any]]:
    frames = await asyncio.wait_for(subscription.take(), 1)
    assert frames is not None
    return [orjson.loads(f.split(b"data: ", 1)[1]) for f in frames]


async def test_the_watcher_reads_only_while_someone_listens_and_publishes_changes_per_tick():
    clock, hub = FakeClock(T0), EventHub()
    readings = Readings(
        reading({KEY: row(remaining=5)}),
        reading({KEY: row(remaining=5)}),
        reading({KEY: row("exhausted", cooldown_until=1)}),
    )
    watcher = LimitWatcher(hub, readings, clock, interval_s=2.0)
    hub.on_demand(EventKind.LIMITS, watcher)
    hub.subscribe([EventKind.REQUEST])
    clock.advance(10)
    assert readings.reads == 0 and not watcher.running
    subscription = hub.subscribe([EventKind.LIMITS])
    assert subscription is not None
    await eventually(lambda: readings.reads == 1 and clock.pending == 1, what="baseline read")
    clock.advance(1.9)
    assert readings.reads == 1
    clock.advance(0.1)
    await eventually(lambda: readings.reads == 2 and clock.pending == 1, what="second read")
    assert subscription.pending == 0
    clock.advance(2)
    (event,) = await limits_events(subscription)
    assert event["entries"] == [row("exhausted", cooldown_until=1)]
    hub.unsubscribe(subscription)
    assert not watcher.running
    await eventually(lambda: clock.pending == 0, what="the timer cancelled")
    clock.advance(10)
    assert readings.reads == 3


async def test_a_failing_read_is_counted_and_the_watcher_goes_on():
    clock, hub = FakeClock(T0), EventHub()
    readings = Readings(
        reading({KEY: row()}),
        RuntimeError("a bug"),
        reading({KEY: row("exhausted")}),
    )
    watcher = LimitWatcher(hub, readings, clock, interval_s=1.0)
    hub.on_demand(EventKind.LIMITS, watcher)
    subscription = hub.subscribe()
    assert subscription is not None
    await eventually(lambda: clock.pending == 1, what="baseline read")
    clock.advance(1)
    await eventually(lambda: readings.reads == 2 and clock.pending == 1, what="failed read")
    assert watcher.failures == 1
    clock.advance(1)
    (event,) = await limits_events(subscription)
    assert event["entries"] == [row("exhausted")]
    await watcher.close()
    assert not watcher.running
