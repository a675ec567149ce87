"""`RecordTap`: a usage sink in front of another, from which a caller can take the record of
one request it is watching (the test route reads the attempts and timings of the request it
sent through the waterfall this way)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from chain429.usage.records import RequestRecord, UsageSink


@dataclass(slots=True)
class Watch:
    """The record of one watched request, once the router has made it."""

    request_id: str
    record: RequestRecord | None = None


class RecordTap:
    """Passes every record on to `sink`; the record of a watched request goes to its watch too.
    With nothing watched, a record costs one truth test more."""

    __slots__ = ("_sink", "_watches")

    def __init__(self, sink: UsageSink) -> None:
        self._sink = sink
        self._watches: dict[str, Watch] = {}

    def submit(self, record: RequestRecord) -> None:
        if self._watches:
            watch = self._watches.get(record.request_id)
            if watch is not None:
                watch.record = record
        self._sink.submit(record)

    @contextmanager
    def watch(self, request_id: str) -> Iterator[Watch]:
        """Watch the request `request_id` while the block runs."""
        watch = Watch(request_id)
        self._watches[request_id] = watch
        try:
            yield watch
        finally:
            del self._watches[request_id]
