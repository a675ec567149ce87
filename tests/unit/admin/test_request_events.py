"""`request` events: every record reaches the inner sink; while someone listens it is also
published as the request log's row."""

from __future__ import annotations

import asyncio

import orjson

from chain429.admin.request_events import PublishingSink
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
