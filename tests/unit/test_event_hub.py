"""The event hub: bounded buffers that skip ahead, one serialisation, order, filters, demand."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from chain429.event_hub import EventHub, EventKind, Subscription, sse_frame


def parse(frame: bytes) -> dict[str, object]:
    """An SSE frame's fields, `data` decoded."""
    fields: dict[str, object] = {}
    for line in frame.decode().strip("\n").split("\n"):
        name, _, value = line.partition(": ")
        fields[name] = orjson.loads(value) if name == "data" else value
    return fields


async def take(subscription: Subscription) -> list[dict[str, object]]:
    frames = await asyncio.wait_for(subscription.take(), 1)
    assert frames is not None
    return [parse(f) for f in frames]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")


def test_sse_frame_with_and_without_an_id():
    assert sse_frame("limits", {"a": 1}, 7) == b'id: 7\nevent: limits\ndata: {"a":1}\n\n'
    assert sse_frame("hello", [1]) == b"event: hello\ndata: [1]\n\n"


async def test_events_arrive_in_order_with_increasing_ids():
    hub = EventHub()
    subscription = hub.subscribe()
    assert subscription is not None
    hub.publish(EventKind.REQUEST, {"n": 1})
    hub.publish(EventKind.LIMITS, {"n": 2})
    hub.publish(EventKind.CONFIG, {"n": 3})
    events = await take(subscription)
    assert [(e["id"], e["event"], e["data"]) for e in events] == [
        ("1", "request", {"n": 1}),
        ("2", "limits", {"n": 2}),
        ("3", "config", {"n": 3}),
    ]
    assert hub.last_id == 3


async def test_a_filter_delivers_only_the_kinds_asked_for_and_ids_keep_counting():
    hub = EventHub()
    requests_only = hub.subscribe([EventKind.REQUEST])
    limits_only = hub.subscribe([EventKind.LIMITS])
    assert requests_only is not None and limits_only is not None
    assert not hub.wants(EventKind.CONFIG)
    hub.publish(EventKind.LIMITS, {"n": 1})
    hub.publish(EventKind.CONFIG, {"n": 2})
    hub.publish(EventKind.REQUEST, {"n": 3})
    assert [(e["id"], e["event"]) for e in await take(requests_only)] == [("2", "request")]
    assert [(e["id"], e["event"]) for e in await take(limits_only)] == [("1", "limits")]


async def test_one_serialisation_is_shared_by_every_subscriber():
    hub = EventHub()
    first, second = hub.subscribe(), hub.subscribe()
    assert first is not None and second is not None
    hub.publish(EventKind.REQUEST, {"n": 1})
    (a,), (b,) = await first.take() or [], await second.take() or []
    assert a is b


def test_nothing_is_serialised_without_a_listener():
    hub = EventHub()
    hub.publish(EventKind.REQUEST, object())  # not serialisable: would raise if it were tried
    assert hub.last_id == 0
    listening = hub.subscribe([EventKind.LIMITS])
    assert listening is not None
    hub.publish(EventKind.REQUEST, object())
    assert hub.last_id == 0 and listening.pending == 0


async def test_a_slow_subscriber_keeps_the_newest_frames_and_is_told_how_many_it_missed():
    hub = EventHub(buffer_size=3)
    slow, fast = hub.subscribe(), hub.subscribe()
    assert slow is not None and fast is not None
    for n in range(1, 4):
        hub.publish(EventKind.REQUEST, {"n": n})
    assert len(await take(fast)) == 3
    for n in range(4, 11):
        hub.publish(EventKind.REQUEST, {"n": n})
        assert [e["data"] for e in await take(fast)] == [{"n": n}]
        assert slow.pending <= 3
    assert slow.missed == 7
    events = await take(slow)
    assert events[0] == {"event": "missed", "data": {"missed": 7}}
    assert [e["data"] for e in events[1:]] == [{"n": 8}, {"n": 9}, {"n": 10}]
    hub.publish(EventKind.REQUEST, {"n": 11})
    assert [e["event"] for e in await take(slow)] == ["request"]
    assert slow.missed == 7 and fast.missed == 0


async def test_take_waits_for_a_frame():
    hub = EventHub()
    subscription = hub.subscribe()
    assert subscription is not None
    waiting = asyncio.ensure_future(subscription.take())
    await asyncio.sleep(0)
    assert not waiting.done()
    hub.publish(EventKind.CONFIG, {})
    frames = await asyncio.wait_for(waiting, 1)
    assert frames is not None and len(frames) == 1


async def test_a_nudge_wakes_take_with_nothing():
    hub = EventHub()
    subscription = hub.subscribe()
    assert subscription is not None
    waiting = asyncio.ensure_future(subscription.take())
    await asyncio.sleep(0)
    subscription.nudge()
    assert await asyncio.wait_for(waiting, 1) == []


async def test_close_delivers_what_is_buffered_then_ends_and_refuses_new_subscribers():
    hub = EventHub()
    subscription = hub.subscribe()
    assert subscription is not None
    hub.publish(EventKind.REQUEST, {"n": 1})
    assert hub.close() == 1
    assert len(await take(subscription)) == 1
    assert await subscription.take() is None
    assert hub.subscribe() is None


async def test_close_wakes_a_waiting_subscriber():
    hub = EventHub()
    subscription = hub.subscribe()
    assert subscription is not None
    waiting = asyncio.ensure_future(subscription.take())
    await asyncio.sleep(0)
    hub.close()
    assert await asyncio.wait_for(waiting, 1) is None


def test_unsubscribing_stops_delivery_and_frees_the_slot():
    hub = EventHub(max_subscribers=1)
    subscription = hub.subscribe()
    assert subscription is not None
    assert hub.subscribe() is None and hub.full
    hub.unsubscribe(subscription)
    hub.unsubscribe(subscription)
    assert hub.subscribers == 0 and not hub.wants(EventKind.REQUEST)
    hub.publish(EventKind.REQUEST, {"n": 1})
    assert subscription.pending == 0
    assert hub.subscribe() is not None


@pytest.mark.parametrize("registered_first", [True, False])
def test_a_demand_runs_while_someone_listens_to_its_kind(registered_first: bool):
    hub = EventHub()
    demand = Recorder()
    if registered_first:
        hub.on_demand(EventKind.LIMITS, demand)
    other = hub.subscribe([EventKind.REQUEST])
    first = hub.subscribe([EventKind.LIMITS, EventKind.REQUEST])
    second = hub.subscribe()
    assert other is not None and first is not None and second is not None
    if not registered_first:
        hub.on_demand(EventKind.LIMITS, demand)
    assert demand.calls == ["start"]
    hub.unsubscribe(first)
    hub.unsubscribe(other)
    assert demand.calls == ["start"]
    hub.unsubscribe(second)
    assert demand.calls == ["start", "stop"]
