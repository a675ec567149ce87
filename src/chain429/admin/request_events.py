"""`request` events: each finished request, as the row the request log will show for it."""

from __future__ import annotations

from typing import Any, Protocol

import structlog

from chain429.event_hub import EventHub, EventKind
from chain429.usage.records import RequestRecord, UsageSink
from chain429.usage.requestlog import record_row


class PublishingSink:
    """A `UsageSink` that hands each record to `inner` (recording, metrics, log line), then,
    while someone listens to `request` events, publishes it as one. It works whether usage is
    recorded or not: `inner` decides that. Nothing is shaped or serialised without a listener.

    Like every sink, `submit` never raises: a failure to publish is logged once and counted in
    `errors`, and the record has reached `inner` already.
    """

    def __init__(self, inner: UsageSink, hub: EventHub) -> None:
        self._inner = inner
        self._hub = hub
        self.errors = 0

    def submit(self, record: RequestRecord) -> None:
        self._inner.submit(record)
        if not self._hub.wants(EventKind.REQUEST):
            return
        try:
            self._hub.publish(EventKind.REQUEST, record_row(record))
        except Exception:  # a sink must never fail the request it records; reported below
            self._failed()

    def _failed(self) -> None:
        self.errors += 1
        if self.errors == 1:
            structlog.get_logger("chain429.admin").exception("request event failed")


class RequestRelay(Protocol):
    """Where request events go for the other replicas (`state_store.fleet_feed.FleetFeed`)."""

    replica: str
    wanted: bool

    def publish(self, row: dict[str, Any]) -> None: ...


class FleetPublishingSink(PublishingSink):
    """A `PublishingSink` of a replica sharing Redis with others: each row says which replica
    served it (`replica`), and goes to `relay` too while a dashboard on another replica follows
    the feed. The memory store keeps the plain `PublishingSink`."""

    def __init__(self, inner: UsageSink, hub: EventHub, relay: RequestRelay) -> None:
        super().__init__(inner, hub)
        self._relay = relay

    def submit(self, record: RequestRecord) -> None:
        self._inner.submit(record)
        relay, here = self._relay, self._hub.wants(EventKind.REQUEST)
        if not (here or relay.wanted):
            return
        try:
            row = record_row(record)
            row["replica"] = relay.replica
            if relay.wanted:
                relay.publish(row)
            if here:
                self._hub.publish(EventKind.REQUEST, row)
        except Exception:  # a sink must never fail the request it records; reported below
            self._failed()
