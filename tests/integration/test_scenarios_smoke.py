"""The scenario benchmark (bench/scenarios.py) still runs: one tiny scenario, in-process, through
the real proxy, simulator and openai SDK, and its result still renders."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The benchmark's modules, imported the way the script imports them (flat, from bench/)."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module("scenarios")


async def test_a_tiny_manual_burst_sends_only_the_limit_and_passes(bench: ModuleType) -> None:
    defs = importlib.import_module("scenario_defs")

    result = await defs.burst_manual(quick=True, size=12, limit=4)

    assert len(result.samples) == 12
    assert all(s.ok for s in result.samples)
    assert result.upstream["a-manual"].calls == 4
    assert result.upstream["a-manual"].rate_limited == 0
    assert result.upstream["z-fallback"].calls == 8
    assert {s.provider for s in result.samples} == {"a-manual", "z-fallback"}
    assert any(s.ttft_ms is not None for s in result.samples if s.stream)
    assert result.checks and result.passed, result.checks


async def test_a_tiny_cold_burst_fills_the_entries_in_order_without_a_429(
    bench: ModuleType,
) -> None:
    learning = importlib.import_module("scenario_learning")

    result = await learning.cold_burst(quick=True, size=10, limit=3)

    assert result.checks and result.passed, result.checks
    assert [result.upstream[n].calls for n in ("a-openai", "b-groq", "z-fallback")] == [3, 3, 4]
    assert all(up.rate_limited == 0 for up in result.upstream.values())
    row = bench.report([result], quick=True, stamp="20260101T000000Z").splitlines()
    (line,) = [r for r in row if r.startswith("| cold-burst |")]
    assert "| a-openai 3, b-groq 3, z-fallback 4 | 70% |" in line


async def test_the_report_has_one_row_per_scenario_and_a_verdict(bench: ModuleType) -> None:
    result = await bench.run_scenario("exhausted-manual", quick=True)
    crashed = bench.ScenarioResult("burst")
    crashed.check("scenario ran to the end", False, "RuntimeError: boom")

    text = bench.report([result, crashed], quick=True, stamp="20260101T000000Z")

    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| Scenario | Requests | Success")
    assert rows[1].startswith("| exhausted-manual |") and rows[1].endswith("| SKIP |")
    assert rows[2].startswith("| burst |") and rows[2].endswith("| FAIL |")
    assert "**1 FAIL**: burst" in text
    assert "RuntimeError: boom" in text


def test_only_selects_by_name_or_prefix(bench: ModuleType) -> None:
    assert bench.select(["burst"]) == ["burst"]
    assert bench.select(["dialect"]) == [
        "dialect-groq",
        "dialect-cerebras",
        "dialect-openrouter",
        "dialect-openai",
    ]
    with pytest.raises(SystemExit):
        bench.select(["no-such-scenario"])
