"""The memory benchmarks' pure parts: the soak's mix and growth, the /metrics sums, answers."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"


def _bench(monkeypatch: pytest.MonkeyPatch, name: str) -> ModuleType:
    """A bench module, imported the way the scripts import it (flat, from bench/)."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module(name)


@pytest.fixture
def soak(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _bench(monkeypatch, "soak")


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _bench(monkeypatch, "memory_rig")


def test_the_soak_mix_repeats_half_json_and_a_tenth_cancelled_streams(soak: ModuleType) -> None:
    kinds = Counter(soak.kind_of(i) for i in range(1_000))
    assert kinds == {soak.Kind.JSON: 500, soak.Kind.STREAM: 400, soak.Kind.CANCEL: 100}
    assert [soak.kind_of(i) for i in (0, 5, 9, 10)] == [
        soak.Kind.JSON,
        soak.Kind.STREAM,
        soak.Kind.CANCEL,
        soak.Kind.JSON,
    ]


def _sample(soak: ModuleType, rig: ModuleType, requests: int, rss_kib: int) -> object:
    footprint = rig.Footprint(rss_kib, rss_kib, 8, 80, None)
    return soak.Sample(requests, requests / 1000, footprint)


def test_growth_is_measured_from_the_sample_at_the_warmup(
    soak: ModuleType, rig: ModuleType
) -> None:
    samples = [
        _sample(soak, rig, 10_000, 90_000),  # still warming up: not the base
        _sample(soak, rig, 20_000, 100_000),
        _sample(soak, rig, 30_000, 112_000),
        _sample(soak, rig, 40_000, 105_000),
    ]
    grown = soak.growth(samples, 20_000)
    assert (grown.base_kib, grown.last_kib, grown.peak_kib) == (100_000, 105_000, 112_000)
    assert grown.last == pytest.approx(0.05)
    assert grown.peak == pytest.approx(0.12)


def test_warmup_must_be_a_multiple_of_the_sampling_and_below_the_total(
    soak: ModuleType,
) -> None:
    assert soak.parse_args([]).warmup == 20_000
    with pytest.raises(SystemExit):
        soak.parse_args(["--warmup", "15000"])
    with pytest.raises(SystemExit):
        soak.parse_args(["--requests", "20000", "--warmup", "20000"])


METRICS = """\
# HELP chain429_entry_in_flight Requests in flight per entry.
# TYPE chain429_entry_in_flight gauge
chain429_entry_in_flight{chain="soak",provider="tight",model="sim-small"} 3.0
chain429_entry_in_flight{chain="soak",provider="roomy",model="sim-small"} 4.0
chain429_usage_queue_depth 17.0
# TYPE chain429_usage_records_dropped counter
chain429_usage_records_dropped_total 2.0
chain429_entry_in_flight_other 99.0
chain429_requests_total{chain="soak"} 1234.0
"""


def test_metrics_are_summed_over_their_label_sets(rig: ModuleType) -> None:
    assert rig.sum_metrics(METRICS) == {
        "entry_in_flight": 7.0,
        "usage_queue_depth": 17.0,
        "usage_records_dropped": 2.0,
    }


def test_an_answer_is_ok_when_whole_or_left_on_purpose(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _bench(monkeypatch, "chat_calls")
    assert calls.Answer(200, whole=True).ok
    assert calls.Answer(200, cancelled=True).ok
    assert not calls.Answer(200).ok  # a stream cut before [DONE]
    assert not calls.Answer(429, whole=True).ok
    assert not calls.Answer(0, error="ClientOSError").ok
