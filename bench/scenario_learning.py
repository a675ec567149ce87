"""Scenarios before any limit is known: a burst at a cold start, a failing first entry, and
providers that send no rate-limit headers (issue #13)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from scenario_checks import check_all_served, collect
from scenario_defs import sim, unlimited
from scenario_load import burst, steady
from scenario_report import ScenarioResult
from scenario_rig import Entry, Rig

SLOW: dict[str, Any] = {"latency_ms": 300, "ttft_ms": 0, "inter_chunk_ms": 0}
"""Every answer, a 429 or a 500 too, takes 300 ms: a burst arrives long before the first one."""


async def cold_burst(*, quick: bool, size: int = 50, limit: int = 10) -> ScenarioResult:
    """`size` requests at once at a cold start: two entries allowing `limit` per window each
    (headers on every answer) before an unlimited one. Nothing is known before the first
    answers, so only what those answers say keeps the burst from the upstream 429s."""
    result = ScenarioResult("cold-burst")
    first = Entry(sim("a-openai", "openai", requests_per_window=limit, **SLOW), "openai")
    second = Entry(sim("b-groq", "groq", requests_per_window=limit, **SLOW), "groq")
    last = unlimited()
    async with Rig([first, second, last]) as rig:
        result.samples = await burst(rig.client, "cold", size)
        collect(rig, result)
        served = Counter(s.provider for s in result.samples if s.ok)
        expected = {first.name: limit, second.name: limit, last.name: size - 2 * limit}
        result.check(
            "served " + "/".join(str(n) for n in expected.values()) + " in chain order",
            all(served[name] == n for name, n in expected.items()),
            "/".join(str(served[name]) for name in expected),
        )
        rejected = {name: rig.stats(name)["rate_limited"] for name in rig.names}
        result.check(
            "0 upstream 429s",
            not any(rejected.values()),
            ", ".join(f"{name} {n}" for name, n in rejected.items()),
        )
        check_all_served(result, result.samples)
        waited = [s.latency_ms for s in result.samples]
        result.note(f"client latency max {max(waited):.0f} ms (waiting on first answers)")
    return result


async def cold_failing(*, quick: bool, size: int = 50) -> ScenarioResult:
    """`size` requests at once at a cold start against a first entry that answers every call
    with a 500: the calls it receives before it sits out its penalty."""
    result = ScenarioResult("cold-failing")
    broken = Entry(sim("a-broken", "openai", error_rate=1.0, **SLOW), "openai")
    async with Rig([broken, unlimited()]) as rig:
        result.samples = await burst(rig.client, "failing", size)
        collect(rig, result)
        calls = rig.calls(broken.name)
        result.check(
            f"≤1 call reaches {broken.name} (probeConcurrency 1)",
            len(calls) <= 1,
            f"{len(calls)} calls, {sum(c.status >= 500 for c in calls)} answered 5xx",
        )
        check_all_served(result, result.samples)
    return result


async def header_less(
    *,
    quick: bool,
    bare: bool = False,
    limit: int = 4,
    window_s: float = 6.0,
    windows: int = 3,
    rate: float = 2.0,
) -> ScenarioResult:
    """A provider that sends no rate-limit headers, allowing `limit` per `window_s` window,
    under a steady `rate` for `windows` windows. Its 429 carries Gemini's body retry delay, or
    with `bare` nothing at all (then `cooldownDefaultMs` is the only guess of when to return)."""
    name = "header-less-bare" if bare else "header-less"
    result = ScenarioResult(name)
    quiet = sim(
        "a-quiet",
        "none",
        requests_per_window=limit,
        window_seconds=window_s,
        gemini_body=not bare,
        retry_after=not bare,
    )
    first = Entry(quiet, "generic-openai")
    settings = {"cooldownDefaultMs": 4_000} if bare else {}
    duration = window_s * windows
    async with Rig([first, unlimited()], settings=settings) as rig:
        result.samples = await steady(rig.client, name, rate=rate, duration_s=duration)
        collect(rig, result)
        _check_learned(rig, result, first.name, limit, window_s, windows)
        check_all_served(result, result.samples)
    return result


def _check_learned(
    rig: Rig, result: ScenarioResult, name: str, limit: int, window_s: float, windows: int
) -> None:
    calls = rig.calls(name)
    refused = [c.at - rig.started_at for c in calls if c.status == 429]
    result.check(
        f"≤1 upstream 429 from {name}, in its first window",
        len(refused) <= 1 and all(at < window_s for at in refused),
        f"{len(refused)} at t+" + ", ".join(f"{at:.2f}s" for at in refused) if refused else "0",
    )
    quota = limit * windows
    served = sum(c.status == 200 for c in calls)
    result.check(
        f"≥90% of {name}'s quota used",
        served >= math.ceil(0.9 * quota),
        f"{served} of {quota} ({100 * served / quota:.0f}%)",
    )
    learned = [
        w
        for (pid, _, _), state in rig.tracker.model_states()
        if pid == name
        for w in state.windows.values()
        if w.source.value == "learned"
    ]
    result.note(
        "learned: "
        + (", ".join(f"{w.limit} per window (reset at t+{_at(rig, w.reset_at)})" for w in learned))
        if learned
        else "learned: nothing"
    )


def _at(rig: Rig, when: float | None) -> str:
    return "?" if when is None else f"{when - rig.started_at:.2f}s"
