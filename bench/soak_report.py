"""The soak's samples and whether they are flat: the table of samples taken at quiet points
(every `--every` requests, once the proxy is idle), the growth of RSS after the warm-up, and the
drift of the event loop's task count and of the open descriptors from their figure at the end of
the warm-up."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from memory_rig import Footprint, mib

#: Issue 14 and 16: resident memory grows by less than this after the warm-up.
TARGET_GROWTH = 0.10


@dataclass(frozen=True, slots=True)
class Sample:
    """The proxy after `requests` requests, `seconds` into the soak; `quiet` when it was idle
    (nothing in flight, queued or waiting to be written, the task count steady)."""

    requests: int
    seconds: float
    footprint: Footprint
    quiet: bool = True

    @property
    def tasks(self) -> float | None:
        return (self.footprint.metrics or {}).get("event_loop_tasks")

    @property
    def open_files(self) -> float:
        return self.footprint.open_files


@dataclass(frozen=True, slots=True)
class Growth:
    """RSS at the end of the warm-up, at the last sample and at the highest after it."""

    base_kib: int
    last_kib: int
    peak_kib: int

    @property
    def last(self) -> float:
        return self.last_kib / self.base_kib - 1

    @property
    def peak(self) -> float:
        return self.peak_kib / self.base_kib - 1

    @property
    def flat(self) -> bool:
        return self.peak < TARGET_GROWTH


def growth(samples: Sequence[Sample], warmup: int) -> Growth:
    """The growth after the sample taken at `warmup` requests (which must exist)."""
    base = next(s for s in samples if s.requests == warmup)
    after = [s.footprint.rss_kib for s in samples if s.requests >= warmup]
    return Growth(base.footprint.rss_kib, after[-1], max(after))


@dataclass(frozen=True, slots=True)
class Drift:
    """A count at quiet points (tasks, descriptors): its figure at the end of the warm-up, the
    lowest and highest after it, the last, and the bound it must stay within."""

    name: str
    base: float
    lowest: float
    highest: float
    last: float
    slack: float

    @property
    def flat(self) -> bool:
        return self.base - self.slack <= self.lowest and self.highest <= self.base + self.slack

    def line(self) -> str:
        verdict = "PASS" if self.flat else "FAIL"
        return (
            f"{self.name}: {self.base:,.0f} at the base, {self.lowest:,.0f} to "
            f"{self.highest:,.0f} after it, {self.last:,.0f} at the end "
            f"({self.last - self.base:+,.0f}); flat within ±{self.slack:g}: {verdict}"
        )


def drift(
    name: str,
    samples: Sequence[Sample],
    warmup: int,
    value: Callable[[Sample], float | None],
    slack: float,
) -> Drift | None:
    """How `value` moved after the sample at `warmup` requests; None when a sample lacks it."""
    after = [value(s) for s in samples if s.requests >= warmup]
    figures = [v for v in after if v is not None]
    if not figures or len(figures) < len(after):
        return None
    return Drift(name, figures[0], min(figures), max(figures), figures[-1], slack)


@dataclass(frozen=True, slots=True)
class Flatness:
    """The verdicts of one soak: RSS growth, task and descriptor drift, and quiet points."""

    rss: Growth
    counts: tuple[Drift | None, ...]
    noisy: tuple[int, ...]  # requests at which the proxy never became quiet

    @property
    def flat(self) -> bool:
        counted = all(count is not None and count.flat for count in self.counts)
        return self.rss.flat and counted and not self.noisy


def flatness(
    samples: Sequence[Sample], warmup: int, *, task_slack: float, fd_slack: float
) -> Flatness:
    counts = (
        drift("event-loop tasks", samples, warmup, lambda s: s.tasks, task_slack),
        drift("open descriptors", samples, warmup, lambda s: s.open_files, fd_slack),
    )
    noisy = tuple(s.requests for s in samples if not s.quiet)
    return Flatness(growth(samples, warmup), counts, noisy)


def samples_table(samples: Sequence[Sample]) -> list[str]:
    lines = [
        "| requests | seconds | RSS | peak RSS | threads | open files | event-loop tasks "
        "| in flight | queued | usage queue | records dropped | quiet |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for sample in samples:
        fp = sample.footprint
        metrics = fp.metrics or {}
        names = (
            "event_loop_tasks",
            "entry_in_flight",
            "chain_queue_depth",
            "usage_queue_depth",
            "usage_records_dropped",
        )
        gauges = ["-" if (v := metrics.get(n)) is None else f"{v:,.0f}" for n in names]
        lines.append(
            f"| {sample.requests:,} | {sample.seconds:.0f} | {mib(fp.rss_kib)} | "
            f"{mib(fp.peak_kib)} | {fp.threads} | {fp.open_files} | "
            + " | ".join(gauges)
            + f" | {'yes' if sample.quiet else 'NO'} |"
        )
    return lines


def flatness_lines(samples: Sequence[Sample], warmup: int, verdicts: Flatness) -> list[str]:
    warming = [f"{s.requests:,}" for s in samples if s.requests < warmup]
    grown = verdicts.rss
    rss_verdict = "PASS" if grown.flat else "FAIL"
    lines = [
        f"- warm-up: the samples at {', '.join(warming) or 'none'} requests are left out; the "
        f"base is the sample at {warmup:,}",
        f"- RSS: {mib(grown.base_kib)} at the base, {grown.last:+.1%} at the end "
        f"({mib(grown.last_kib)}), {grown.peak:+.1%} at the highest ({mib(grown.peak_kib)}); "
        f"under {TARGET_GROWTH:.0%} growth: {rss_verdict}",
    ]
    for name, count in zip(("event-loop tasks", "open descriptors"), verdicts.counts, strict=True):
        lines.append(f"- {count.line()}" if count else f"- {name}: not sampled: FAIL")
    if verdicts.noisy:
        shown = ", ".join(f"{n:,}" for n in verdicts.noisy)
        lines.append(f"- never quiet (work still in flight or queued) at: {shown}: FAIL")
    lines.append(f"- flat after the warm-up: {'PASS' if verdicts.flat else 'FAIL'}")
    return lines
