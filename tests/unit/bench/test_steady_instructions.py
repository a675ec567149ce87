"""The steady instructions benchmark's pure part: its table."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture
def steady(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/steady_instructions.py, imported the way the scripts import it (flat)."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module("steady_instructions")


def test_a_turns_fixed_cost_cancels_out_of_the_figure(steady: ModuleType) -> None:
    # 950,000 per request, plus 3,000,000 per turn whatever its length
    short = steady.Turn(100, 100 * 950_000 + 3_000_000, 100 * 60_000 + 500_000)
    long = steady.Turn(400, 400 * 950_000 + 3_000_000, 400 * 60_000 + 500_000)

    rows = steady.table([("json", short, long)])

    assert rows[2] == "| json | 100 / 400 | 950,000 | 60,000 | 980,000, 957,500 |"


@pytest.mark.parametrize(("short", "long"), [(0, 10), (10, 10), (10, 5)])
def test_a_long_turn_that_answered_no_more_fails_the_run(
    steady: ModuleType, short: int, long: int
) -> None:
    with pytest.raises(steady.BenchError, match="json: .* the long turn must answer more"):
        steady.table([("json", steady.Turn(short, 1, 0), steady.Turn(long, 2, 0))])
