"""`request` events: each finished request, as the row the request log will show for it."""

from __future__ import annotations

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
            self.errors += 1
            if self.errors == 1:
                structlog.get_logger("chain429.admin").exception("request event failed")
