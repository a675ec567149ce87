"""Every entry exhausted, then capacity returning: `Retry-After` without queue mode, FIFO service
with it, and a manual-limits entry that must refill on its own."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from scenario_checks import check_all_served, check_no_wasted, collect, describe_windows
from scenario_defs import FREE_MODEL, sim
from scenario_load import Sample, call, sequential, staggered
from scenario_report import ScenarioResult
from scenario_rig import Entry, Rig, describe_limits, earliest_free

RETRY_AFTER_TOLERANCE_S = 1.0
PROBES = 5
PROBE_GAP_S = 0.3
QUEUE_SETTINGS = {"queueMode": True, "queueMaxWaitMs": 20_000, "queueMaxSize": 50}
IMMEDIATE_S = 0.25
"""A queued request answered faster than this was not queued at all."""


@dataclass(frozen=True, slots=True)
class Probe:
    """A request sent while every entry was exhausted, and how right its `Retry-After` was."""

    sample: Sample
    retry_after: int | None
    true_wait: float
    earliest: str
    """The provider that truly frees up first, and the proxy's view of it then."""
    view: str

    @property
    def error_s(self) -> float | None:
        return None if self.retry_after is None else self.retry_after - self.true_wait


async def probe(rig: Rig, tag: str) -> Probe:
    """Send one request expected to get a 429; read the true earliest reset as it comes back."""
    sample = await call(rig.client, tag, stream=False)
    now = time.time()
    truth = rig.truth()
    frees = {name: earliest_free({name: windows}, now) for name, windows in truth.items()}
    earliest = min(frees, key=lambda name: frees[name])
    value = sample.retry_after
    retry_after = int(value) if value is not None and value.isdigit() else None
    view = describe_limits(rig.tracker, earliest, now)
    return Probe(sample, retry_after, frees[earliest] - now, earliest, view)


def check_probes(result: ScenarioResult, probes: list[Probe]) -> None:
    """Each probe got a 429 whose Retry-After is within a second of the true earliest reset."""
    bad = []
    for p in probes:
        error = p.error_s
        result.note(
            f"{p.sample.tag}: status {p.sample.status}, Retry-After {p.retry_after}, "
            f"true earliest reset in {p.true_wait:.2f}s ({p.earliest})"
            + ("" if error is None else f" (error {error:+.2f}s)")
            + f"; proxy's view of {p.earliest}: {p.view}"
        )
        if p.sample.status != 429 or error is None or abs(error) > RETRY_AFTER_TOLERANCE_S:
            bad.append(p)
    worst = max((abs(p.error_s or 0.0) for p in probes), default=0.0)
    result.check(
        "429 with Retry-After within 1 s of the true earliest reset",
        bool(probes) and not bad,
        f"{len(probes) - len(bad)}/{len(probes)} probes right, worst error {worst:.2f}s",
    )


async def recover(rig: Rig, result: ScenarioResult, last: Probe, tag: str) -> Sample:
    """Wait the Retry-After the proxy gave, then ask again: it must be served."""
    await asyncio.sleep(last.retry_after if last.retry_after is not None else 1.0)
    sample = await call(rig.client, tag, stream=False)
    result.check(
        f"served after waiting Retry-After ({tag})",
        sample.ok,
        f"{sample.status} from {sample.provider}" if sample.ok else f"{sample.error}",
    )
    if not sample.ok:
        result.note(
            f"{tag} still refused after {last.retry_after}s; simulator now: "
            + "; ".join(
                f"{name}: {describe_windows(w, time.time())}" for name, w in rig.truth().items()
            )
        )
    return sample


async def exhausted(*, quick: bool) -> ScenarioResult:
    """Two header-speaking entries with different resets; the client must be sent back to the
    earlier one, to the second, whatever the phase of its request within that second."""
    result = ScenarioResult("exhausted")
    entries = [
        Entry(sim("a-openai", "openai", requests_per_window=3, window_seconds=6), "openai"),
        Entry(
            sim("b-openrouter", "openrouter", requests_per_window=3, window_seconds=9),
            "openrouter",
            model=FREE_MODEL,
        ),
    ]
    async with Rig(entries) as rig:
        samples = await sequential(rig.client, "fill", 6)
        probes: list[Probe] = []
        for round_ in range(1 if quick else 2):
            found = await probe_series(rig, f"probe-{round_}", samples)
            probes += found
            if found:
                samples.append(await recover(rig, result, found[-1], f"recovered-{round_}"))
            samples.extend(await _refill(rig, f"refill-{round_}"))
        result.samples = samples
        collect(rig, result)
        check_probes(result, probes)
        check_no_wasted(rig, result)
    return result


async def probe_series(rig: Rig, prefix: str, samples: list[Sample]) -> list[Probe]:
    """Probes `PROBE_GAP_S` apart, so they fall at different phases of a second, until
    `PROBES` were refused (or one is served: capacity came back)."""
    probes = []
    for index in range(PROBES):
        if index:
            await asyncio.sleep(PROBE_GAP_S)
        found = await probe(rig, f"{prefix}{chr(ord('a') + index)}")
        samples.append(found.sample)
        if found.sample.ok:
            break
        probes.append(found)
    return probes


async def _refill(rig: Rig, prefix: str, most: int = 10) -> list[Sample]:
    """Use up whatever came back, stopping at the first refusal."""
    samples = []
    for index in range(most):
        sample = await call(rig.client, f"{prefix}-{index:04d}", stream=False)
        samples.append(sample)
        if not sample.ok:
            break
    return samples


async def exhausted_queue(*, quick: bool) -> ScenarioResult:
    """Queue mode: requests that find the chain exhausted wait and are served in arrival order."""
    result = ScenarioResult("exhausted-queue")
    entries = [
        Entry(sim("a-openai", "openai", requests_per_window=3, window_seconds=6), "openai"),
        Entry(sim("b-groq", "groq", requests_per_window=3, window_seconds=6), "groq"),
    ]
    waiting = 5 if quick else 8
    async with Rig(entries, QUEUE_SETTINGS) as rig:
        fill = await sequential(rig.client, "fill", 6)
        queued = await staggered(rig.client, "queued", waiting, 0.05)
        result.samples = fill + queued
        collect(rig, result)
        check_all_served(result, queued, " of queued requests")
        _check_order(rig, result, queued)
        check_no_wasted(rig, result)
        at_once = [s for s in queued if not s.ok and s.latency_ms < IMMEDIATE_S * 1000]
        if at_once:
            result.note(
                f"{len(at_once)} queued requests were answered {at_once[0].error} within "
                f"{IMMEDIATE_S * 1000:.0f} ms: they never waited (queue mode not in effect?)"
            )
    return result


def _check_order(rig: Rig, result: ScenarioResult, queued: list[Sample]) -> None:
    arrival = [s.tag for s in queued]
    upstream = [
        c.tag for c in sorted(rig.trace, key=lambda c: c.at) if c.tag in arrival and c.status == 200
    ]
    completion = [s.tag for s in sorted(queued, key=lambda s: s.done_at) if s.ok]
    result.check(
        "queued requests served upstream in arrival order",
        upstream == arrival,
        "upstream order " + " ".join(t.rsplit("-", 1)[-1] for t in upstream),
    )
    result.note("client completion order: " + " ".join(t.rsplit("-", 1)[-1] for t in completion))
    for sample in queued:
        result.note(
            f"{sample.tag}: {'served by ' + str(sample.provider) if sample.ok else sample.error} "
            f"after {sample.latency_ms / 1000:.2f}s"
        )


async def exhausted_manual(*, quick: bool) -> ScenarioResult:
    """A headerless entry with `requestsPerMinute: 3`: the proxy's own window must say when
    it frees up, and refill then (a minute, so only in a full run)."""
    result = ScenarioResult("exhausted-manual")
    if quick:
        result.skipped = "needs a 60 s window; full run only"
        return result
    entry = Entry(
        sim("a-manual", "none", requests_per_window=3, window_seconds=60),
        "generic-openai",
        rate_limits={"requestsPerMinute": 3},
    )
    async with Rig([entry]) as rig:
        samples = await sequential(rig.client, "fill", 3)
        probes = await probe_series(rig, "probe-0", samples)
        await asyncio.sleep(20.0)
        probes += await probe_series(rig, "probe-1", samples)
        samples.append(await recover(rig, result, probes[-1], "recovered-0"))
        result.samples = samples
        collect(rig, result)
        check_probes(result, probes)
        check_no_wasted(rig, result, [entry.name])
    return result
