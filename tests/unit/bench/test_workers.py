"""The workers benchmark's pure parts: each worker's request count from its `/metrics`, the
workers' shares, the two-core ceiling and the tables."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"

METRICS = """\
# HELP chain429_requests_total Requests served, by chain and status.
# TYPE chain429_requests_total counter
chain429_requests_total{chain="json",status="200"} 1500.0
chain429_requests_total{chain="json",status="429"} 2.0
chain429_requests_created{chain="json",status="200"} 1.7e+09
chain429_request_latency_seconds_count{chain="json"} 1502.0
"""


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/workers.py, imported the way the scripts import it (flat, from bench/)."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module("workers")


def test_a_workers_requests_are_the_sum_of_its_request_counters(bench: ModuleType) -> None:
    assert bench.requests_counted(METRICS) == 1502.0
    assert bench.requests_counted("") == 0.0


def test_each_workers_share_is_of_what_was_served_between_two_readings(
    bench: ModuleType,
) -> None:
    before = {11: 100.0, 12: 50.0}
    after = {11: 400.0, 12: 750.0}

    assert bench.shares_of(before, after) == pytest.approx((0.7, 0.3))


def sample(bench: ModuleType, rps: float, proxy_s: float, shares: tuple[float, ...]) -> object:
    """A run of 1,000 requests: `proxy_s` of proxy CPU, 0.1 s of Redis, 0.1 s of the load,
    250 context switches per worker, 400 Redis reads."""
    cpu = {"proxy": proxy_s, "redis": 0.1, "load": 0.1}
    return bench.Sample(rps, 1_000, cpu, shares, 250 * len(shares), 400, 2.5)


def test_redis_info_fields_are_read_as_integers(bench: ModuleType) -> None:
    info = "# Stats\r\ntotal_connections_received:4\r\ntotal_reads_processed:1234\r\n"

    assert bench.info_field(info, "total_reads_processed") == 1234
    with pytest.raises(bench.BenchError, match="no total_writes_processed"):
        bench.info_field(info, "total_writes_processed")


def test_the_ceiling_is_two_cores_over_every_parts_cpu_per_request(bench: ModuleType) -> None:
    run = sample(bench, 900, 0.3, (1.0,))

    assert run.cpu_us("proxy") == pytest.approx(300.0)
    assert run.ceiling == pytest.approx(2e6 / 500)


def test_the_tables_give_spreads_medians_and_ratios_within_each_round(bench: ModuleType) -> None:
    rounds = tuple(
        {
            "1w": sample(bench, one, 0.3, (1.0,)),
            "2w-1core": sample(bench, split, 0.33, (0.6, 0.4)),
            "2w": sample(bench, both, 0.36, (0.55, 0.45)),
        }
        for one, split, both in ((1_000, 900, 1_200), (2_000, 1_900, 2_000), (1_000, 1_000, 1_500))
    )
    cells = [bench.Cell("json", 32, rounds)]

    header, rule, *rows = bench.targets_table(cells).splitlines()
    assert rule.count("---") == header.count("|") - 1
    assert [[v.strip() for v in row.strip("|").split("|")] for row in rows] == [
        ["json", "32", "1w", "1,000 / 1,000 / 2,000", "300", "100", "100", "4,000", "100%"]
        + ["0.25", "0.40"],
        ["json", "32", "2w-1core", "900 / 1,000 / 1,900", "330", "100", "100", "3,774", "60%"]
        + ["0.50", "0.40"],
        ["json", "32", "2w", "1,200 / 1,500 / 2,000", "360", "100", "100", "3,571", "55%"]
        + ["0.50", "0.40"],
    ]
    header, rule, row = bench.ratios_table(cells).splitlines()
    assert rule.count("---") == header.count("|") - 1
    assert [v.strip() for v in row.strip("|").split("|")] == [
        "json",
        "32",
        "0.900 / 0.950 / 1.000",
        "1.100 / 1.100 / 1.100",
        "1.000 / 1.200 / 1.500",
        "1.200 / 1.200 / 1.200",
        "0.34 / 0.42 / 0.56",
    ]
    assert bench.load_line(cells).endswith("2.50 / 2.50 / 2.50 (min / med / max)")
