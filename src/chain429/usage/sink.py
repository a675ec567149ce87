"""The sink the router is given: metrics, the per-request log line, then the batched writer."""

from __future__ import annotations

import structlog

from chain429.usage.metrics import UsageMetrics
from chain429.usage.records import RequestRecord, UsageSink
from chain429.usage.request_line import RequestLines


class RecordingSink:
    """A `UsageSink` that counts a record in `metrics`, logs its line, and hands it to `writer`.

    Like every sink, `submit` never raises: a failure in metrics or logging is logged once and
    counted in `errors`, and the record still reaches the writer.
    """

    def __init__(
        self,
        writer: UsageSink,
        metrics: UsageMetrics | None = None,
        request_lines: RequestLines | None = None,
    ) -> None:
        self._writer = writer
        self._metrics = metrics
        self._request_lines = request_lines
        self.errors = 0

    def submit(self, record: RequestRecord) -> None:
        try:
            if self._metrics is not None:
                self._metrics.observe(record)
            if self._request_lines is not None:
                self._request_lines.write(record)
        except Exception:  # a sink must never fail the request it records; reported below
            self.errors += 1
            if self.errors == 1:
                structlog.get_logger("chain429.usage").exception("usage sink failed")
        self._writer.submit(record)
