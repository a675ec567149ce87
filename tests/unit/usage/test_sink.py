from __future__ import annotations

import io

from chain429.logs import configure_logging
from chain429.usage.metrics import UsageMetrics
from chain429.usage.records import RequestRecord
from chain429.usage.request_line import RequestLines
from chain429.usage.sink import RecordingSink
from tests.support.clock import FakeClock
from tests.support.usage_records import MemorySink, served


def test_a_record_is_counted_logged_and_stored() -> None:
    out = io.StringIO()
    configure_logging("info", "console", [], stream=out)
    stored = MemorySink()
    metrics = UsageMetrics(FakeClock())
    sink = RecordingSink(stored, metrics, RequestLines("console", "info", out))
    record = served("r1", fallen_from=("cerebras",))
    sink.submit(record)
    assert stored.records == [record]
    assert b'chain429_requests_total{chain="fast"' in metrics.render()
    assert "fast -> groq/m" in out.getvalue()


class BrokenMetrics(UsageMetrics):
    def observe(self, record: RequestRecord) -> None:
        raise RuntimeError("boom")


def test_a_failing_observer_never_fails_the_submit_and_the_record_is_kept() -> None:
    out = io.StringIO()
    configure_logging("info", "json", [], stream=out)
    stored = MemorySink()
    sink = RecordingSink(stored, BrokenMetrics(FakeClock()))
    sink.submit(served("r1"))
    sink.submit(served("r2"))
    assert [r.request_id for r in stored.records] == ["r1", "r2"]
    assert sink.errors == 2
    assert out.getvalue().count("usage sink failed") == 1
