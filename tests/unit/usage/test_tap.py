"""The record tap passes every record on and hands a watched request's record to its watch."""

from __future__ import annotations

import pytest

from chain429.usage.tap import RecordTap
from tests.support.usage_records import MemorySink, served


def test_every_record_is_passed_on_and_only_the_watched_one_is_kept():
    sink = MemorySink()
    tap = RecordTap(sink)
    with tap.watch("b") as watch:
        tap.submit(served("a"))
        assert watch.record is None
        tap.submit(served("b"))
    tap.submit(served("b"))

    assert [r.request_id for r in sink.records] == ["a", "b", "b"]
    assert watch.record is sink.records[1]


def test_a_watch_ends_with_its_block_even_when_the_block_fails():
    tap = RecordTap(MemorySink())
    with pytest.raises(ValueError, match="boom"), tap.watch("a") as watch:
        raise ValueError("boom")
    tap.submit(served("a"))
    assert watch.record is None
