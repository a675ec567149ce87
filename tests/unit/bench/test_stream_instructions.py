"""The stream instructions benchmark's pure parts: the stepped upstream's writes and the checks
that a counted stream had the reads it was meant to have."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"


def bench_module(monkeypatch: pytest.MonkeyPatch, name: str) -> ModuleType:
    """A bench/ module, imported the way the scripts import it (flat, from bench/)."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module(name)


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return bench_module(monkeypatch, "stream_instructions")


def test_the_stepped_upstream_writes_one_event_a_step_and_ends_the_body_with_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream = bench_module(monkeypatch, "stepped_upstream")
    payloads = bench_module(monkeypatch, "payloads")
    writes = upstream.stepped_writes()
    events = payloads.sse_events()
    assert len(writes) == len(events) == 14
    for write, sent in zip(writes, events, strict=True):
        size, _, rest = write.partition(b"\r\n")
        assert rest[: int(size, 16)] == sent.encode()
    assert b'"role"' in writes[0]
    assert writes[-1].endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")


def test_the_client_gets_the_stream_without_the_usage_chunk_it_did_not_ask_for(
    bench: ModuleType,
) -> None:
    expected = bench.expected_client_bytes()
    assert b'"usage"' not in expected
    assert expected.count(b"\n\n") == 13
    assert expected.endswith(b'"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')


def reads_of(events: list[str], shape: str) -> list[bytes]:
    after_commit = [e.encode() for e in events[1:]]
    return [b"".join(after_commit)] if shape == "whole" else [b"", *after_commit]


@pytest.mark.parametrize("shape", ["event", "whole"])
def test_a_stream_of_the_shape_asked_for_passes_the_check(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    events = bench_module(monkeypatch, "payloads").sse_events()
    bench.check_stream(shape, [bench.expected_client_bytes()], reads_of(events, shape))


def test_events_merged_into_one_read_fail_the_event_shape(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = bench_module(monkeypatch, "payloads").sse_events()
    merged = [b"", *(e.encode() for e in events[1:-2]), "".join(events[-2:]).encode()]
    with pytest.raises(bench.BenchError, match=r"\[0, 1, .*, 1, 2\] events per read"):
        bench.check_stream("event", [bench.expected_client_bytes()], merged)
    with pytest.raises(bench.BenchError, match="not of shape 'whole'"):
        bench.check_stream("whole", [bench.expected_client_bytes()], reads_of(events, "event"))


def test_a_client_that_got_other_bytes_fails_the_check(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = bench_module(monkeypatch, "payloads").sse_events()
    with pytest.raises(bench.BenchError, match="the client got"):
        bench.check_stream("event", [b"data: [DONE]\n\n"], reads_of(events, "event"))
