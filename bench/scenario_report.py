"""What one scenario measured, its checks, and the markdown table of a whole run."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from scenario_load import Sample


@dataclass(frozen=True, slots=True)
class Check:
    """One acceptance criterion: what was required, whether it held, and what was measured."""

    name: str
    passed: bool
    measured: str


@dataclass(frozen=True, slots=True)
class Upstream:
    """What one simulated provider received over a scenario."""

    calls: int
    rate_limited: int
    by_status: Mapping[str, int]


@dataclass(slots=True)
class ScenarioResult:
    """One row of the table, with the evidence behind it."""

    name: str
    samples: list[Sample] = field(default_factory=list)
    upstream: dict[str, Upstream] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.skipped is not None or all(c.passed for c in self.checks)

    def check(self, name: str, passed: bool, measured: str) -> bool:
        self.checks.append(Check(name, passed, measured))
        return passed

    def note(self, text: str) -> None:
        self.notes.append(text)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q`-th percentile (0..100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def error_kinds(samples: Iterable[Sample]) -> Counter[str]:
    return Counter(s.error for s in samples if s.error is not None)


def success_rate(samples: Sequence[Sample]) -> float:
    return 100.0 * sum(s.ok for s in samples) / len(samples) if samples else 0.0


HEADER = (
    "| Scenario | Requests | Success | Client errors | Upstream calls | Upstream 429s "
    "| Served by | Fall-through | Latency p50/p99 ms | TTFT p50/p99 ms | Criterion | Result |"
)
RULE = "|" + "---|" * 12


def table(results: Sequence[ScenarioResult]) -> str:
    return "\n".join([HEADER, RULE, *(row(r) for r in results)])


def row(result: ScenarioResult) -> str:
    if result.skipped is not None:
        cells = [result.name, *[""] * 9, result.skipped, "SKIP"]
        return "| " + " | ".join(cells) + " |"
    samples = result.samples
    served = [s for s in samples if s.ok]
    latency = [s.latency_ms for s in served]
    ttft = [s.ttft_ms for s in served if s.ttft_ms is not None]
    errors = ", ".join(f"{kind} ×{n}" for kind, n in error_kinds(samples).most_common()) or "—"
    cells = [
        result.name,
        str(len(samples)),
        f"{success_rate(samples):.1f}%",
        errors,
        _per_provider(result.upstream, "calls"),
        _per_provider(result.upstream, "rate_limited"),
        _served_by(result),
        _fall_through(result),
        _pair(latency),
        _pair(ttft),
        "; ".join(c.name for c in result.checks),
        "PASS" if result.passed else "FAIL",
    ]
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


def details(results: Sequence[ScenarioResult]) -> str:
    """Per scenario: every check with what was measured, then the evidence notes."""
    lines: list[str] = []
    for result in results:
        verdict = "SKIP" if result.skipped else ("PASS" if result.passed else "FAIL")
        lines.append(f"### {result.name}: {verdict} ({result.seconds:.1f} s)")
        lines.append("")
        if result.skipped:
            lines.append(f"- skipped: {result.skipped}")
        for check in result.checks:
            mark = "ok" if check.passed else "**FAIL**"
            lines.append(f"- {mark} {check.name}: {check.measured}")
        for name, up in result.upstream.items():
            statuses = ", ".join(f"{code}: {n}" for code, n in up.by_status.items())
            lines.append(f"- upstream {name}: {up.calls} calls ({statuses or 'none'})")
        lines.extend(f"- {note}" for note in result.notes)
        lines.append("")
    return "\n".join(lines)


def _per_provider(upstream: Mapping[str, Upstream], attribute: str) -> str:
    return ", ".join(f"{name} {getattr(up, attribute)}" for name, up in upstream.items()) or "—"


def _served_by(result: ScenarioResult) -> str:
    counts = Counter(s.provider for s in result.samples if s.ok)
    return ", ".join(f"{name} {counts[name]}" for name in result.upstream) or "—"


def _fall_through(result: ScenarioResult) -> str:
    """The share of served requests that the chain's first entry did not serve."""
    served = [s for s in result.samples if s.ok]
    first = next(iter(result.upstream), None)
    if not served or first is None:
        return "—"
    fell = sum(s.provider != first for s in served)
    return f"{100 * fell / len(served):.0f}%"


def _pair(values: Sequence[float]) -> str:
    p50, p99 = percentile(values, 50), percentile(values, 99)
    if p50 is None or p99 is None:
        return "—"
    return f"{p50:.0f} / {p99:.0f}"
