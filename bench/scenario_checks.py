"""Checks shared by the scenarios, each recording what it measured and the evidence for a FAIL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from scenario_load import Sample
from scenario_report import ScenarioResult, Upstream, success_rate
from scenario_rig import Rig, SimWindows, UpstreamCall

MAX_EVIDENCE = 6
"""Evidence lines kept per failed check (the first ones; the count says how many there were)."""


def collect(rig: Rig, result: ScenarioResult) -> None:
    """Copy every provider's counters from the simulator into the result."""
    for name in rig.names:
        stats = rig.stats(name)
        result.upstream[name] = Upstream(
            calls=stats["requests"],
            rate_limited=stats["rate_limited"],
            by_status=stats["by_status"],
        )


def header_speakers(rig: Rig) -> list[str]:
    return [e.name for e in rig.entries if e.sim.dialect.value != "none"]


def check_all_served(result: ScenarioResult, samples: Sequence[Sample], what: str = "") -> bool:
    rate = success_rate(samples)
    ok = sum(s.ok for s in samples)
    label = f"100% client success{what}"
    return result.check(label, ok == len(samples), f"{rate:.1f}% ({ok}/{len(samples)})")


def check_no_wasted(rig: Rig, result: ScenarioResult, names: Iterable[str] | None = None) -> bool:
    """After a provider's first response with headers, no 429 from it (PROVIDERS.md dialects
    send headers on every simulated 200, so the first 200 is that response)."""
    passed = True
    for name in header_speakers(rig) if names is None else names:
        calls = rig.calls(name)
        first = next((i for i, c in enumerate(calls) if c.status == 200), len(calls))
        wasted = [c for c in calls[first:] if c.status == 429]
        passed &= result.check(
            f"0 upstream 429s from {name} after its first headers",
            not wasted,
            f"{len(wasted)} wasted of {len(calls)} calls",
        )
        for call in wasted[:MAX_EVIDENCE]:
            result.note(f"wasted call: {describe_call(rig, call)}")
    return passed


def describe_call(rig: Rig, call: UpstreamCall, about: str | None = None) -> str:
    """One upstream call with the truth and the proxy's view of a provider (by default the
    one called) just before it."""
    name = about or call.provider
    return (
        f"{call.provider} answered {call.status} to {call.tag} "
        f"({'stream' if call.stream else 'json'}) at t+{call.at - rig.started_at:.3f}s; "
        f"{name} before, simulator: {describe_windows(call.truth[name], call.at)}; "
        f"proxy: {call.views[name]}"
    )


def describe_windows(windows: SimWindows, now: float) -> str:
    parts = []
    for kind, metric in windows.items():
        if metric is not None:
            parts.append(
                f"{kind} {metric['remaining']}/{metric['limit']} left, "
                f"resets in {metric['reset_at'] - now:.3f}s"
            )
    return "; ".join(parts) or "unlimited"


def remaining(windows: SimWindows, kind: str) -> int | None:
    metric: Mapping[str, Any] | None = windows.get(kind)
    return None if metric is None else int(metric["remaining"])
