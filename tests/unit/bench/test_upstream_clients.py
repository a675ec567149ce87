"""The upstream clients benchmark's pure parts: the order of the targets, and its table."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/upstream_clients.py, imported the way the scripts import it (flat, from bench/)."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module("upstream_clients")


def test_each_round_starts_with_the_next_target(clients: ModuleType) -> None:
    orders = [clients.round_order(i) for i in range(4)]

    assert orders == [
        ("relay", "aiohttp", "pyreqwest"),
        ("aiohttp", "pyreqwest", "relay"),
        ("pyreqwest", "relay", "aiohttp"),
        ("relay", "aiohttp", "pyreqwest"),
    ]


def a_round(clients: ModuleType, relay: float, aiohttp: float, pyreqwest: float) -> object:
    rps = {"relay": relay, "aiohttp": aiohttp, "pyreqwest": pyreqwest}
    cpu_us = {"relay": 100.0, "aiohttp": 150.0, "pyreqwest": 120.0}
    switches = {"relay": 0.04, "aiohttp": 0.05, "pyreqwest": 3.5}
    return clients.ClientRound(rps, cpu_us, switches)


def test_the_table_gives_medians_and_the_spread_of_each_rounds_ratios(clients: ModuleType) -> None:
    rounds = (
        a_round(clients, 1_000, 800, 900),
        a_round(clients, 2_000, 1_200, 2_400),
        a_round(clients, 1_000, 700, 700),
    )
    text = clients.clients_table([clients.ClientCell("sse", 32, rounds)])
    header, rule, row = text.splitlines()

    assert rule.count("---") == header.count("|") - 1
    assert [v.strip() for v in row.strip("|").split("|")] == [
        "sse",
        "32",
        "1,000",
        "800",
        "900",
        "0.600 / 0.700 / 0.800",
        "0.700 / 0.900 / 1.200",
        "1.000 / 1.125 / 2.000",
        "100, 150, 120",
        "0.04, 0.05, 3.50",
    ]
