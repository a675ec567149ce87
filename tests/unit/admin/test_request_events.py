"""`request` events: every record reaches the inner sink; while someone listens it is also
published as the request log's row."""

from __future__ import annotations

import asyncio

import orjson

from chain429.admin.request_events import FleetPublishingSink, PublishingSink
from chain429.event_hub import EventHub, EventKind
from chain429.usage.requestlog import record_row
from tests.support.usage_records import MemorySink, exhausted, served


async def test_records_reach_the_inner_sink_and_are_published_only_to_listeners():
    hub, inner = EventHub(), MemorySink()
    sink = PublishingSink(inner, hub)
    sink.submit(served("r1"))
    assert hub.last_id == 0
    subscription = hub.subscribe([EventKind.REQUEST])
    assert subscription is not None
    record = served("r2", fallen_from=("cerebras",))
    sink.submit(record)
    assert [r.request_id for r in inner.records] == ["r1", "r2"]
    frames = await asyncio.wait_for(subscription.take(), 1)
    assert frames is not None
    (frame,) = frames
    assert frame.startswith(b"id: 1\nevent: request\ndata: ")
    assert orjson.loads(frame.split(b"data: ", 1)[1]) == record_row(record)


class BrokenHub(EventHub):
    def publish(self, kind: EventKind, data: object) -> None:
        raise RuntimeError("boom")


def test_a_failing_publish_never_fails_the_submit():
    hub, inner = BrokenHub(), MemorySink()
    hub.subscribe()
    sink = PublishingSink(inner, hub)
    sink.submit(exhausted("r1"))
    sink.submit(exhausted("r2"))
    assert len(inner.records) == 2 and sink.errors == 2


class Relay:
    """A `RequestRelay` keeping what it was given."""

    def __init__(self, wanted: bool) -> None:
        self.replica = "r-a"
        self.wanted = wanted
        self.rows: list[dict[str, object]] = []

    def publish(self, row: dict[str, object]) -> None:
        self.rows.append(row)


def test_a_replica_shapes_nothing_while_nobody_watches_anywhere():
    hub, inner, relay = EventHub(), MemorySink(), Relay(wanted=False)
    sink = FleetPublishingSink(inner, hub, relay)
    sink.submit(served("r1"))
    assert (len(inner.records), relay.rows, hub.last_id) == (1, [], 0)


async def test_a_replica_relays_its_rows_with_its_id_while_another_watches():
    hub, inner, relay = EventHub(), MemorySink(), Relay(wanted=True)
    sink = FleetPublishingSink(inner, hub, relay)
    record = served("r1")
    sink.submit(record)
    assert relay.rows == [record_row(record) | {"replica": "r-a"}]
    assert hub.last_id == 0  # nobody watches here
    subscription = hub.subscribe([EventKind.REQUEST])
    assert subscription is not None
    relay.wanted = False
    sink.submit(served("r2"))
    frames = await asyncio.wait_for(subscription.take(), 1)
    assert frames is not None
    (frame,) = frames
    assert orjson.loads(frame.split(b"data: ", 1)[1])["replica"] == "r-a"
    assert len(relay.rows) == 1
