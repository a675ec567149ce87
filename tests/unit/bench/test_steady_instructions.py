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


def test_each_turn_is_one_row_of_instructions_per_request(steady: ModuleType) -> None:
    rows = steady.table(
        [steady.Turn("json", 400, 380_000_000, 25_000_000), steady.Turn("sse", 3, 4_200_001, 0)]
    )

    assert rows[2:] == ["| json | 400 | 950,000 | 62,500 |", "| sse | 3 | 1,400,000 | 0 |"]


def test_a_turn_without_requests_fails_the_run(steady: ModuleType) -> None:
    with pytest.raises(steady.BenchError, match="json: no request"):
        steady.table([steady.Turn("json", 0, 1, 0)])
