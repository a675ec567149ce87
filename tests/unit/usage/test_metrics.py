from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from chain429.tasks import create_task
from chain429.usage.metrics import OTHER, EntryLimits, LabelNames, QuotaFigure, UsageMetrics
from tests.support.clock import FakeClock
from tests.support.usage_records import T0, exhausted, served


@dataclass
class FakeWriter:
    queue_depth: int = 3
    dropped_by_reason: ClassVar[dict[str, int]] = {"queue_full": 7, "read_only": 0}
    failed: int = 1


class FakeLimits:
    def entry_limits(self) -> Iterable[EntryLimits]:
        return [
            EntryLimits(
                "groq",
                "…abcd",
                "m1",
                cooldown_until=T0 + 30,
                in_flight=2,
                quotas=(QuotaFigure("requests", "day", limit=1000, remaining=12),),
            ),
            EntryLimits(
                "cerebras", None, "m2", quotas=(QuotaFigure("tokens", "minute", None, 500),)
            ),
        ]

    def queue_depths(self) -> Mapping[str, int]:
        return {"fast": 4}


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _without_values(text: bytes) -> list[str]:
    return [line.rsplit(" ", 1)[0] for line in text.decode().splitlines()]


def _labels(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


def test_observed_records_become_counters_and_histograms() -> None:
    metrics = UsageMetrics(FakeClock(T0))
    metrics.observe(served("a", model="m1", fallen_from=("cerebras",), latency_ms=300, ttft_ms=80))
    metrics.observe(served("b", model="m1", latency_ms=100, tokens=(1, 2)))
    metrics.observe(exhausted("c"))
    samples = _samples(metrics.render().decode())

    groq = {"chain": "fast", "provider": "groq", "model": "m1"}
    assert samples["chain429_requests_total", _labels(**groq, status="200")] == 2
    unserved = {"chain": "fast", "provider": "", "model": ""}
    assert samples["chain429_requests_total", _labels(**unserved, status="429")] == 1
    assert (
        samples[
            "chain429_attempts_total",
            _labels(chain="fast", provider="cerebras", model="m", outcome="rate_limited"),
        ]
        == 2
    )
    assert samples["chain429_tokens_total", _labels(**groq, kind="prompt")] == 11
    assert samples["chain429_tokens_total", _labels(**groq, kind="completion")] == 22
    assert samples["chain429_request_latency_seconds_count", _labels(**groq)] == 2
    assert samples["chain429_request_latency_seconds_sum", _labels(**groq)] == 0.4
    assert samples["chain429_request_latency_seconds_bucket", _labels(**groq, le="0.25")] == 1
    assert samples["chain429_time_to_first_token_seconds_count", _labels(**groq)] == 1


def test_state_gauges_come_from_the_writer_and_the_limits_view() -> None:
    clock = FakeClock(T0)
    metrics = UsageMetrics(clock, writer=FakeWriter(), limits=FakeLimits())
    samples = _samples(metrics.render().decode())
    assert samples["chain429_usage_queue_depth", _labels()] == 3
    assert samples["chain429_usage_records_dropped_total", _labels(reason="queue_full")] == 7
    assert samples["chain429_usage_records_dropped_total", _labels(reason="read_only")] == 0
    assert samples["chain429_usage_records_failed_total", _labels()] == 1
    groq = {"provider": "groq", "key": "…abcd", "model": "m1"}
    assert samples["chain429_entry_cooldown_remaining_seconds", _labels(**groq)] == 30
    assert samples["chain429_entry_in_flight", _labels(**groq)] == 2
    day = {**groq, "metric": "requests", "window": "day"}
    assert samples["chain429_entry_quota_remaining", _labels(**day)] == 12
    assert samples["chain429_entry_quota_limit", _labels(**day)] == 1000
    cerebras = {"provider": "cerebras", "key": "", "model": "m2"}
    assert samples["chain429_entry_cooldown_remaining_seconds", _labels(**cerebras)] == 0
    assert samples["chain429_chain_queue_depth", _labels(chain="fast")] == 4

    clock.advance(45)
    later = _samples(metrics.render().decode())
    assert later["chain429_entry_cooldown_remaining_seconds", _labels(**groq)] == 0


def test_metrics_live_in_their_own_registry() -> None:
    first, second = UsageMetrics(FakeClock()), UsageMetrics(FakeClock())
    first.observe(served("a"))
    assert b"chain429_requests_total{" not in second.render()
    assert REGISTRY.get_sample_value("chain429_requests_total") is None


def test_no_key_material_only_labels() -> None:
    metrics = UsageMetrics(FakeClock(), limits=FakeLimits())
    metrics.observe(served("a"))
    text = metrics.render().decode()
    assert "…abcd" in text and "sk-" not in text


CONFIGURED = LabelNames(frozenset({"fast"}), frozenset({("groq", "m1"), ("cerebras", "m")}))


def test_names_outside_the_config_share_one_label_and_metrics_stay_flat() -> None:
    metrics = UsageMetrics(FakeClock(T0), limits=FakeLimits(), names=CONFIGURED)

    def observe(index: int) -> None:
        direct = f"groq/model-{index}"
        metrics.observe(served(f"d{index}", chain=direct, model=f"model-{index}", ttft_ms=5.0))
        metrics.observe(exhausted(f"u{index}")._replace(chain=f"unknown-{index}", attempts=()))

    metrics.observe(served("a", model="m1", fallen_from=("cerebras",)))
    for index in range(1_000):
        observe(index)
    early = metrics.render()
    for index in range(1_000, 100_000):
        observe(index)
    late = metrics.render()

    assert _without_values(late) == _without_values(early)
    assert len(late) - len(early) < 100  # only the counts' digits differ
    samples = _samples(late.decode())
    other = {"chain": OTHER, "provider": "groq", "model": OTHER}
    assert samples["chain429_requests_total", _labels(**other, status="200")] == 100_000
    refused = {"chain": OTHER, "provider": "", "model": ""}
    assert samples["chain429_requests_total", _labels(**refused, status="429")] == 100_000
    fast = {"chain": "fast", "provider": "groq", "model": "m1"}
    assert samples["chain429_requests_total", _labels(**fast, status="200")] == 1
    assert samples["chain429_entry_in_flight", _labels(provider="groq", key="…abcd", model="m1")]
    assert not any(
        name == "chain429_entry_in_flight" and ("model", "m2") in labels for name, labels in samples
    ), "an entry outside the config has no gauge of its own"


def test_queue_depths_of_chains_outside_the_config_add_up_under_one_label() -> None:
    class Queued(FakeLimits):
        def queue_depths(self) -> Mapping[str, int]:
            return {"fast": 1, "groq/a": 2, "groq/b": 3}

    metrics = UsageMetrics(FakeClock(T0), limits=Queued(), names=CONFIGURED)
    samples = _samples(metrics.render().decode())
    assert samples["chain429_chain_queue_depth", _labels(chain="fast")] == 1
    assert samples["chain429_chain_queue_depth", _labels(chain=OTHER)] == 5


def test_a_chain_added_to_the_config_gets_its_own_label_from_then_on() -> None:
    metrics = UsageMetrics(FakeClock(T0), names=CONFIGURED)
    metrics.observe(served("before", chain="slow", model="m1"))
    metrics.names = LabelNames(CONFIGURED.chains | {"slow"}, CONFIGURED.entries)
    metrics.observe(served("after", chain="slow", model="m1"))

    samples = _samples(metrics.render().decode())
    entry = {"provider": "groq", "model": "m1", "status": "200"}
    assert samples["chain429_requests_total", _labels(chain=OTHER, **entry)] == 1
    assert samples["chain429_requests_total", _labels(chain="slow", **entry)] == 1
    tried = {"provider": "groq", "model": "m1", "outcome": "served"}
    assert samples["chain429_attempts_total", _labels(chain="slow", **tried)] == 1


async def test_the_event_loop_task_count_is_read_at_scrape_time() -> None:
    metrics = UsageMetrics(FakeClock(T0))
    before = _samples(metrics.render().decode())["chain429_event_loop_tasks", _labels()]
    assert before == len(asyncio.all_tasks())
    release = asyncio.Event()
    waiting = [create_task(release.wait(), name=f"waiter {i}") for i in range(5)]
    during = _samples(metrics.render().decode())["chain429_event_loop_tasks", _labels()]
    release.set()
    await asyncio.gather(*waiting)
    after = _samples(metrics.render().decode())["chain429_event_loop_tasks", _labels()]
    assert (during - before, after) == (5, before)


def test_outside_an_event_loop_there_is_no_task_count() -> None:
    samples = _samples(UsageMetrics(FakeClock(T0)).render().decode())
    assert not any(name == "chain429_event_loop_tasks" for name, _ in samples)


def test_the_process_collector_reports_memory_and_open_descriptors() -> None:
    samples = _samples(UsageMetrics(FakeClock(T0)).render().decode())
    memory = samples["process_resident_memory_bytes", _labels()]
    open_fds = samples["process_open_fds", _labels()]
    assert memory == pytest.approx(_own_rss_bytes(), rel=0.2)
    assert 3 <= open_fds == pytest.approx(len(os.listdir("/proc/self/fd")), abs=2)


def _own_rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
