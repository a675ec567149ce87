"""The state store benchmark's pure parts: the order of the targets, its table, the Redis
command line and the worker count check."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/state_store.py, imported the way the scripts import it (flat, from bench/)."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module("state_store")


def test_each_round_starts_with_the_next_target(bench: ModuleType) -> None:
    assert [bench.round_order(i) for i in range(4)] == [
        ("memory", "redis", "redis-2w"),
        ("redis", "redis-2w", "memory"),
        ("redis-2w", "memory", "redis"),
        ("memory", "redis", "redis-2w"),
    ]


def a_round(bench: ModuleType, memory: float, redis: float, two: float) -> object:
    rps = {"memory": memory, "redis": redis, "redis-2w": two}
    return bench.StoreRound(rps, {"memory": 230.0, "redis": 320.0, "redis-2w": 0.0})


def test_the_table_gives_medians_and_the_spread_of_each_rounds_ratios(bench: ModuleType) -> None:
    rounds = (
        a_round(bench, 1_000, 800, 1_200),
        a_round(bench, 2_000, 1_800, 2_700),
        a_round(bench, 1_000, 700, 1_400),
    )
    text = bench.store_table([bench.StoreCell("json", 32, rounds)])
    header, rule, row = text.splitlines()

    assert rule.count("---") == header.count("|") - 1
    assert [v.strip() for v in row.strip("|").split("|")] == [
        "json",
        "32",
        "1,000",
        "800",
        "1,400",
        "0.700 / 0.800 / 0.900",
        "1.500 / 1.500 / 2.000",
        "230, 320",
    ]


def test_redis_runs_on_loopback_and_keeps_nothing_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    redis = importlib.import_module("redis_process")
    command = redis.redis_command("/usr/bin/redis-server", 6390, Path("/tmp/r"))
    pairs = dict(zip(command[1::2], command[2::2], strict=True))
    assert pairs == {
        "--bind": "127.0.0.1",
        "--port": "6390",
        "--dir": "/tmp/r",
        "--save": "",
        "--appendonly": "no",
        "--daemonize": "no",
    }
    assert redis.Redis(6390, 1).url == "redis://127.0.0.1:6390/0"


def test_the_report_says_where_each_process_ran(bench: ModuleType) -> None:
    overhead = importlib.import_module("overhead")
    assert bench.placement(overhead.Cores(proxy=0, load=1)) == (
        "memory and redis proxies on core 0; nginx, wrk and redis-server on core 1; the two "
        "workers not pinned (both cores, beside all of those)"
    )
    assert bench.placement(overhead.Cores(proxy=0, load=1), "proxy").startswith(
        "memory and redis proxies on core 0 with redis-server; nginx, wrk on core 1;"
    )
    assert "not pinned" in bench.placement(overhead.Cores(proxy=None, load=None))
