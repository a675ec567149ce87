"""The usage pieces one running proxy owns, built without I/O and started together.

`recordUsage: false` keeps metrics and the per-request log line but opens no database.
"""

from __future__ import annotations

from chain429.clock import Clock
from chain429.config.schema import Settings
from chain429.usage.metrics import LabelNames, UsageMetrics
from chain429.usage.records import DiscardingSink, UsageSink
from chain429.usage.request_line import RequestLines
from chain429.usage.retention import RetentionPruner
from chain429.usage.sink import RecordingSink
from chain429.usage.store import UsageStore
from chain429.usage.writer import WRITE_INTERVAL_S, BatchWriter


class Recording:
    """Store, writer, retention and metrics of one app."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        writer_interval: float = WRITE_INTERVAL_S,
        names: LabelNames | None = None,
    ) -> None:
        self.store: UsageStore | None = None
        self.writer: BatchWriter | None = None
        self.pruner: RetentionPruner | None = None
        if settings.record_usage:
            self.store = UsageStore(settings.database or settings.db_path)
            self.writer = BatchWriter(self.store, interval=writer_interval)
            self.pruner = RetentionPruner(self.store, clock, days=settings.log_retention_days)
        self.metrics = UsageMetrics(clock, writer=self.writer, names=names)

    @property
    def records_written(self) -> int:
        """Usage records committed to the database so far."""
        return self.writer.written if self.writer is not None else 0

    def sink(self, request_lines: RequestLines | None) -> UsageSink:
        writer: UsageSink = self.writer if self.writer is not None else DiscardingSink()
        return RecordingSink(writer, self.metrics, request_lines)

    async def start(self) -> None:
        if self.store is not None:
            await self.store.open()
        if self.writer is not None:
            await self.writer.start()
        if self.pruner is not None:
            await self.pruner.start()

    async def close(self, flush_deadline: float | None = None) -> int:
        """Stop pruning, write every queued record, close the database. At `flush_deadline`
        (event loop time) the records still unwritten are given up; returns how many."""
        lost = 0
        if self.pruner is not None:
            await self.pruner.close()
        if self.writer is not None:
            lost = await self.writer.close(flush_deadline)
        if self.store is not None:
            await self.store.close()
        return lost
