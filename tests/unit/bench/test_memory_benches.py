"""The memory benchmarks' pure parts: the soak's mixes, growth and flatness, the held streams'
timing and errors, the /metrics sums, answers."""

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


@pytest.fixture
def report(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _bench(monkeypatch, "soak_report")


@pytest.fixture
def streams(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _bench(monkeypatch, "streams_open")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _bench(monkeypatch, "chat_calls")


def test_the_soak_mix_repeats_half_json_and_a_tenth_cancelled_streams(soak: ModuleType) -> None:
    kinds = Counter(soak.kind_of(i) for i in range(1_000))
    assert kinds == {soak.Kind.JSON: 500, soak.Kind.STREAM: 400, soak.Kind.CANCEL: 100}
    assert [soak.kind_of(i) for i in (0, 5, 9, 10)] == [
        soak.Kind.JSON,
        soak.Kind.STREAM,
        soak.Kind.CANCEL,
        soak.Kind.JSON,
    ]


def test_the_queued_mix_gives_up_one_stream_in_four_while_waiting(soak: ModuleType) -> None:
    kinds = Counter(soak.queue_kind_of(i) for i in range(100))
    assert kinds == {soak.Kind.QUEUED: 75, soak.Kind.QUEUED_CANCEL: 25}


def _sample(
    report: ModuleType,
    rig: ModuleType,
    requests: int,
    rss_kib: int,
    *,
    tasks: float | None = 8,
    files: int = 80,
    quiet: bool = True,
) -> object:
    metrics = None if tasks is None else {"event_loop_tasks": tasks}
    footprint = rig.Footprint(rss_kib, rss_kib, 8, files, metrics)
    return report.Sample(requests, requests / 1000, footprint, quiet)


def test_growth_is_measured_from_the_sample_at_the_warmup(
    report: ModuleType, rig: ModuleType
) -> None:
    samples = [
        _sample(report, rig, 10_000, 90_000),  # still warming up: not the base
        _sample(report, rig, 20_000, 100_000),
        _sample(report, rig, 30_000, 112_000),
        _sample(report, rig, 40_000, 105_000),
    ]
    grown = report.growth(samples, 20_000)
    assert (grown.base_kib, grown.last_kib, grown.peak_kib) == (100_000, 105_000, 112_000)
    assert grown.last == pytest.approx(0.05)
    assert grown.peak == pytest.approx(0.12)
    assert not grown.flat  # the highest, not the last, is held against 10%


def test_a_soak_is_flat_when_rss_tasks_and_files_stay_near_the_base(
    report: ModuleType, rig: ModuleType
) -> None:
    samples = [
        _sample(report, rig, 10_000, 80_000, tasks=30, files=200),  # warm-up: left out
        _sample(report, rig, 20_000, 100_000, tasks=8, files=60),
        _sample(report, rig, 30_000, 104_000, tasks=9, files=52),
        _sample(report, rig, 40_000, 109_000, tasks=8, files=63),
    ]
    verdicts = report.flatness(samples, 20_000, task_slack=1, fd_slack=8)
    tasks, files = verdicts.counts
    assert (tasks.base, tasks.lowest, tasks.highest, tasks.last) == (8, 8, 9, 8)
    assert (files.base, files.lowest, files.highest, files.last) == (60, 52, 63, 63)
    assert verdicts.flat
    lines = report.flatness_lines(samples, 20_000, verdicts)
    assert lines[0] == (
        "- warm-up: the samples at 10,000 requests are left out; the base is the sample at 20,000"
    )
    assert lines[-1] == "- flat after the warm-up: PASS"


@pytest.mark.parametrize(
    ("last", "why"),
    [
        ({"rss_kib": 111_000}, "RSS"),
        ({"tasks": 11}, "event-loop tasks"),
        ({"tasks": 5}, "event-loop tasks"),  # fewer than at the base is a change too
        ({"files": 70}, "open descriptors"),
        ({"tasks": None}, "event-loop tasks"),  # /metrics did not answer: not known flat
        ({"quiet": False}, "never quiet"),
    ],
)
def test_a_soak_is_not_flat_when_one_figure_moves_past_its_bound(
    report: ModuleType, rig: ModuleType, last: dict[str, object], why: str
) -> None:
    fields: dict[str, object] = {"rss_kib": 100_000, "tasks": 8, "files": 60, "quiet": True}
    fields |= last
    rss = fields.pop("rss_kib")
    samples = [
        _sample(report, rig, 20_000, 100_000, tasks=8, files=60),
        _sample(report, rig, 30_000, rss, **fields),
    ]
    verdicts = report.flatness(samples, 20_000, task_slack=2, fd_slack=8)
    assert not verdicts.flat
    failed = [line for line in report.flatness_lines(samples, 20_000, verdicts) if "FAIL" in line]
    assert failed[0].startswith(f"- {why}")
    assert failed[-1] == "- flat after the warm-up: FAIL"


def test_the_samples_table_has_a_row_per_sample_and_marks_one_never_quiet(
    report: ModuleType, rig: ModuleType
) -> None:
    samples = [
        _sample(report, rig, 10_000, 102_400),
        _sample(report, rig, 20_000, 102_400, tasks=None, quiet=False),
    ]
    header, rule, first, second = report.samples_table(samples)
    assert header.count("|") == rule.count("|") == first.count("|") == second.count("|")
    assert first.startswith("| 10,000 | 10 | 100.0 MiB |") and first.endswith(
        "| 8 | - | - | - | - | yes |"
    )
    assert second.endswith("| - | - | - | - | - | NO |")


def test_held_streams_are_spaced_to_last_the_hold_and_the_opening(streams: ModuleType) -> None:
    opts = streams.parse_args([])
    assert (opts.streams, opts.hold_s, opts.chunks) == (1_000, 60.0, 60)
    assert opts.chunk_ms == 1_500  # 60 chunks over 60 s held + 30 s to open them all
    assert streams.parse_args(["--hold", "5", "--open-s", "1"]).chunk_ms == 100
    assert streams.parse_args(["--chunk-ms", "250"]).chunk_ms == 250
    assert streams.sample_times(60, 7) == [0, 10, 20, 30, 40, 50, 60]
    with pytest.raises(SystemExit):
        streams.parse_args(["--chunks", "65"])  # past the client's max_tokens: never sent


def test_a_held_stream_is_an_error_unless_whole_with_every_event(
    streams: ModuleType, calls: ModuleType
) -> None:
    answer = calls.Answer
    assert streams.stream_error(answer(200, whole=True, events=60), 60) is None
    assert streams.stream_error(answer(200, whole=True, events=59), 60) == "59 content events of 60"
    assert streams.stream_error(answer(200, error="stream ended without [DONE]", events=60), 60)
    assert streams.stream_error(answer(502), 60) == "status 502"


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


def test_an_answer_is_ok_when_whole_or_left_on_purpose(calls: ModuleType) -> None:
    assert calls.Answer(200, whole=True).ok
    assert calls.Answer(200, cancelled=True).ok
    assert calls.Answer(0, cancelled=True).ok  # given up before any headers came
    assert calls.Answer(0, cancelled=True).cut_before_headers
    assert not calls.Answer(200, cancelled=True).cut_before_headers
    assert not calls.Answer(200).ok  # a stream cut before [DONE]
    assert not calls.Answer(429, whole=True).ok
    assert not calls.Answer(0, error="ClientOSError").ok


@pytest.mark.parametrize(
    ("data", "counted"),
    [
        (b'{"choices":[{"index":0,"delta":{"content":" fox"}}]}', True),
        (b'{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}', False),
        (b'{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}', False),
        (b'{"choices":[],"usage":{"total_tokens":3}}', False),
        (b"not json", False),
        (b"[1, 2]", False),
    ],
)
def test_only_events_with_text_count_as_content(
    calls: ModuleType, data: bytes, counted: bool
) -> None:
    assert calls.has_content(data) is counted


def test_queued_waits_are_summed_up_with_the_ones_left_waiting(soak: ModuleType) -> None:
    assert soak.queue_waits([0.2, 30.0, 0.1, 6.0, 0.3]) == (
        "0.30 s median, 30.00 s longest, 2 over 5 s"
    )
    assert soak.queue_waits([]) == "-"


def test_a_queued_stream_given_up_in_time_is_counted_apart(
    soak: ModuleType, calls: ModuleType
) -> None:
    tally = soak.Tally(Counter(), Counter(), [])
    tally.add(soak.Kind.QUEUED_CANCEL, calls.Answer(0, cancelled=True))
    tally.add(soak.Kind.QUEUED_CANCEL, calls.Answer(200, "scarce", whole=True))
    tally.add(soak.Kind.QUEUED, calls.Answer(200, "scarce", whole=True), 1.5)
    tally.add(soak.Kind.QUEUED, calls.Answer(502))
    assert tally.answers == {
        "queued stream cut while waiting": 1,
        "queued stream cut while waiting (answered before the cut)": 1,
        "queued stream": 1,
    }
    assert tally.providers == {"scarce": 2}
    assert tally.queued_seconds == [1.5]
    assert [answer.status for _, answer in tally.failures] == [502]
