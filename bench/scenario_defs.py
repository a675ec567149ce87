"""Scenarios under load: steady over-limit traffic, bursts, and a flaky first entry."""

from __future__ import annotations

from typing import Any

from chain429.sim.config import Dialect, SimProviderConfig
from scenario_checks import check_all_served, check_no_wasted, collect, describe_call
from scenario_load import TRUNCATED, burst, call, steady
from scenario_report import ScenarioResult
from scenario_rig import Entry, Rig

FREE_MODEL = "meta-llama/llama-3.3-70b-instruct:free"
SIM_TIMING: dict[str, Any] = {"latency_ms": 50, "ttft_ms": 250, "inter_chunk_ms": 20}
"""Free tiers answer in a few hundred milliseconds, so requests overlap under load."""
REPLY_WORDS = 8


def sim(name: str, dialect: str, **fields: Any) -> SimProviderConfig:
    """A simulated provider with the bench's usual timing and reply size."""
    return SimProviderConfig(
        name=name, dialect=Dialect(dialect), reply_words=REPLY_WORDS, **{**SIM_TIMING, **fields}
    )


def unlimited(name: str = "z-fallback") -> Entry:
    """A last entry with no limits and no headers, so the chain always has capacity."""
    return Entry(sim(name, "none"), "generic-openai")


async def steady_over_limit(*, quick: bool) -> ScenarioResult:
    """3 req/s against a first entry allowing 10 per 10 s; the chain has room for 60."""
    result = ScenarioResult("steady")
    entries = [
        Entry(sim("a-openai", "openai", requests_per_window=10, window_seconds=10), "openai"),
        Entry(sim("b-groq", "groq", requests_per_window=10, window_seconds=10), "groq"),
        Entry(
            sim("c-openrouter", "openrouter", requests_per_window=40, window_seconds=10),
            "openrouter",
            model=FREE_MODEL,
        ),
    ]
    async with Rig(entries) as rig:
        result.samples = await steady(
            rig.client, "steady", rate=3.0, duration_s=10.0 if quick else 20.0
        )
        collect(rig, result)
        check_all_served(result, result.samples)
        check_no_wasted(rig, result)
        served = {s.provider for s in result.samples if s.ok}
        result.note(f"served by: {', '.join(sorted(p for p in served if p))}")
    return result


async def burst_learned(*, quick: bool, size: int = 50, limit: int = 10) -> ScenarioResult:
    """One warm-up teaches the limit from headers, then `size` requests at once."""
    result = ScenarioResult("burst")
    first = Entry(sim("a-openai", "openai", requests_per_window=limit, window_seconds=30), "openai")
    async with Rig([first, unlimited()]) as rig:
        warm = await call(rig.client, "burst-warmup", stream=False)
        result.samples = [warm, *await burst(rig.client, "burst", size)]
        collect(rig, result)
        _check_burst(rig, result, first.name, limit)
    return result


async def burst_manual(*, quick: bool, size: int = 50, limit: int = 10) -> ScenarioResult:
    """A provider without headers, limited by `rateLimits.requestsPerMinute`; no warm-up."""
    result = ScenarioResult("burst-manual")
    first = Entry(
        sim("a-manual", "none", requests_per_window=limit, window_seconds=60),
        "generic-openai",
        rate_limits={"requestsPerMinute": limit},
    )
    async with Rig([first, unlimited()]) as rig:
        result.samples = await burst(rig.client, "burst", size)
        collect(rig, result)
        _check_burst(rig, result, first.name, limit)
    return result


def _check_burst(rig: Rig, result: ScenarioResult, name: str, limit: int) -> None:
    calls = rig.calls(name)
    rejected = sum(c.status == 429 for c in calls)
    result.check(
        f"≤{limit} upstream calls reach {name}",
        len(calls) <= limit,
        f"{len(calls)} calls, {rejected} of them 429",
    )
    check_no_wasted(rig, result, [name])
    check_all_served(result, result.samples)
    served = sum(s.provider == name for s in result.samples if s.ok)
    result.note(f"{name} served {served} of its {limit} (unused capacity: {limit - served})")


async def flaky_first(*, quick: bool, drop_after_chunks: int = 2) -> ScenarioResult:
    """The first entry fails 30% of calls with a 5xx and drops 10% of streams mid-way."""
    name = "flaky" if drop_after_chunks else "flaky-early-drop"
    result = ScenarioResult(name)
    flaky = Entry(
        sim(
            "a-flaky",
            "openai",
            error_rate=0.3,
            drop_rate=0.1,
            drop_after_chunks=drop_after_chunks,
            seed=7,
        ),
        "openai",
    )
    async with Rig([flaky, unlimited()]) as rig:
        result.samples = await steady(rig.client, name, rate=4.0, duration_s=8.0 if quick else 15.0)
        collect(rig, result)
        _check_flaky(rig, result, flaky.name)
    return result


def _check_flaky(rig: Rig, result: ScenarioResult, name: str) -> None:
    samples = result.samples
    silent = [s for s in samples if s.error in (TRUNCATED, "incomplete body")]
    result.check("no silently truncated answer", not silent, f"{len(silent)} truncated")
    check_all_served(result, [s for s in samples if not s.stream], " (non-streamed)")
    calls = rig.calls(name)
    committed_drops = [c for c in calls if c.stream and c.action == "answer" and c.drop_after]
    failed = [s for s in samples if not s.ok]
    loud = all(s.error is not None and "mid-stream" in s.error for s in failed)
    result.check(
        "client failures = streams dropped after the commit point, each a loud error",
        len(failed) == len(committed_drops) and loud,
        f"{len(failed)} failures, {len(committed_drops)} streams dropped after first chunk",
    )
    dropped_tags = {c.tag for c in committed_drops}
    for sample in failed:
        if sample.tag not in dropped_tags:
            own = [c for c in rig.trace if c.tag == sample.tag]
            result.note(
                f"{sample.tag} failed ({sample.error}) without a committed drop: "
                + " / ".join(describe_call(rig, c) for c in own)
            )
    errors = sum(c.status >= 500 for c in calls)
    result.note(
        f"{name}: {len(calls)} calls, {errors} answered 5xx, "
        f"{sum(1 for c in calls if c.action == 'drop' or c.drop_after is not None)} dropped"
    )
