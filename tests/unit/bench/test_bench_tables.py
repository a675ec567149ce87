"""The overhead and instruction benchmarks' tables: spreads over rounds, ratios to the relay."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/overhead_table.py, imported the way the scripts import it (flat, from bench/)."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module("overhead_table")


@pytest.fixture
def instructions(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module("instructions")


def wrk(rps: float, p50_us: int = 1000, p99_us: int = 5000) -> Any:
    wrk_module = importlib.import_module("wrk")
    requests = int(rps * 2)  # a 2 s run
    return wrk_module.WrkResult(requests, 2_000_000, 0, 0, 0, 0, 0, 0, p50_us, p99_us, 0.0, 0)


def test_a_spread_is_the_smallest_median_and_largest_value(table: ModuleType) -> None:
    assert table.Spread.of([0.7, 0.5, 0.6]) == table.Spread(0.5, 0.6, 0.7)
    assert table.Spread.of([1.0, 4.0, 2.0, 3.0]).median == 2.5
    assert table.Spread.of([0.5, 0.6, 0.7]).show(lambda v: f"{v:.2f}") == "0.50 / 0.60 / 0.70"


def test_a_spread_of_nothing_is_refused(table: ModuleType) -> None:
    with pytest.raises(ValueError, match="at least one"):
        table.Spread.of([])


def test_a_round_compares_the_proxy_with_the_relay_of_the_same_round(table: ModuleType) -> None:
    one = table.Round(
        direct=wrk(10_000),
        relay=wrk(2_000, p50_us=1_000, p99_us=4_000),
        proxy=wrk(1_000, p50_us=1_500, p99_us=7_000),
        relay_cpu_s=0.4,  # 4,000 requests: 100 µs each
        proxy_cpu_s=0.5,  # 2,000 requests: 250 µs each
    )

    assert one.proxy_per_relay == 0.5
    assert one.proxy_per_direct == 0.1
    assert one.relay_per_direct == 0.2
    assert (one.added_p50_us, one.added_p99_us) == (500, 3_000)
    assert one.relay_cpu_us == pytest.approx(100)
    assert one.proxy_cpu_us == pytest.approx(250)


def test_a_round_with_nothing_served_has_ratios_of_zero(table: ModuleType) -> None:
    one = table.Round(wrk(0), wrk(0), wrk(0), 0.0, 0.0)

    assert (one.proxy_per_relay, one.proxy_per_direct, one.proxy_cpu_us) == (0.0, 0.0, 0.0)


def cell(table: ModuleType, proxies: list[float], *, recording: bool = True) -> Any:
    rounds = tuple(table.Round(wrk(10_000), wrk(1_000), wrk(p), 0.1, 0.1) for p in proxies)
    return table.Cell("json", 32, recording, rounds, proxy_completed=123)


def test_the_table_gives_the_ratio_spread_and_medians_over_rounds(table: ModuleType) -> None:
    text = table.cells_table([cell(table, [700, 500, 600])], show_recording=False)
    header, rule, row = text.splitlines()

    assert "429chain/relay min / med / max" in header
    assert rule.count("---") == header.count("|") - 1
    values = [v.strip() for v in row.strip("|").split("|")]
    assert values[:8] == [
        "json",
        "32",
        "10,000",
        "1,000",
        "600",
        "0.500 / 0.600 / 0.700",
        "0.060",
        "0.100",
    ]


def test_with_recording_shown_each_row_starts_with_it(table: ModuleType) -> None:
    cells = [cell(table, [500], recording=False), cell(table, [400])]
    rows = table.cells_table(cells, show_recording=True).splitlines()

    assert rows[0].startswith("| recording | stream")
    assert rows[2].startswith("| off | json")
    assert rows[3].startswith("| on | json")
    comparison = table.recording_table(cells).splitlines()
    assert comparison[2].startswith("| json | 32 | 500 | 400 | 0.800 |")


def test_the_instruction_table_puts_the_proxy_against_the_relay(instructions: ModuleType) -> None:
    counts = importlib.import_module("recording_instructions").Counts
    measured = [
        instructions.Measured("relay", "json", (counts(100, 300_000.0, 0.0),)),
        instructions.Measured(
            "429chain", "json", (counts(90, 900_000.0, 70_000.0), counts(95, 910_000.0, 70_000.0))
        ),
    ]
    rows = instructions.instructions_table(measured).splitlines()

    assert rows[2] == "| relay | json | 100 | 300,000 | 0 | 300,000 | 300,000 |  |"
    assert rows[3] == (
        "| 429chain | json | 185 | 905,000 | 70,000 | 975,000 | 970,000, 980,000 | "
        "3.25x (+675,000) |"
    )


def test_instruction_counts_take_the_redis_proxy_only_when_asked(instructions: ModuleType) -> None:
    assert instructions._parse([]).targets == ("relay", "429chain")
    assert instructions._parse(["--with-redis", "--with-pyreqwest"]).targets == (
        "relay",
        "429chain",
        "429chain-pyreqwest",
        "429chain-redis",
    )
