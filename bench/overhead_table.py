"""Markdown tables of the overhead benchmark's results."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from wrk import WrkResult


@dataclass(frozen=True, slots=True)
class Spread:
    """The smallest, median and largest of a few figures (one per round)."""

    low: float
    median: float
    high: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        ordered = sorted(values)
        if not ordered:
            raise ValueError("a spread needs at least one value")
        return cls(ordered[0], statistics.median(ordered), ordered[-1])

    def show(self, fmt: Callable[[float], str]) -> str:
        """`low / median / high`, each formatted with `fmt`."""
        return " / ".join(fmt(v) for v in (self.low, self.median, self.high))


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


@dataclass(frozen=True, slots=True)
class Round:
    """One round of a cell: the same load on nginx, the relay and the proxy, in that order."""

    direct: WrkResult
    relay: WrkResult
    proxy: WrkResult
    relay_cpu_s: float  # CPU time of the process during its measured run
    proxy_cpu_s: float

    @property
    def proxy_per_relay(self) -> float:
        return ratio(self.proxy.rps, self.relay.rps)

    @property
    def proxy_per_direct(self) -> float:
        return ratio(self.proxy.rps, self.direct.rps)

    @property
    def relay_per_direct(self) -> float:
        return ratio(self.relay.rps, self.direct.rps)

    @property
    def added_p50_us(self) -> int:
        """Proxy p50 minus relay p50, in the same round."""
        return self.proxy.p50_us - self.relay.p50_us

    @property
    def added_p99_us(self) -> int:
        return self.proxy.p99_us - self.relay.p99_us

    @property
    def relay_cpu_us(self) -> float:
        return ratio(self.relay_cpu_s * 1e6, self.relay.requests)

    @property
    def proxy_cpu_us(self) -> float:
        return ratio(self.proxy_cpu_s * 1e6, self.proxy.requests)


@dataclass(frozen=True, slots=True)
class Cell:
    """One answer kind and connection count, measured over alternating rounds."""

    kind: str
    connections: int
    recording: bool
    rounds: tuple[Round, ...]
    proxy_completed: int  # requests the proxy completed for this cell, warm-ups included

    def spread(self, figure: Callable[[Round], float]) -> Spread:
        return Spread.of(figure(r) for r in self.rounds)

    def median(self, figure: Callable[[Round], float]) -> float:
        return self.spread(figure).median


@dataclass(frozen=True, slots=True)
class ProxySummary:
    """What one proxy process left behind: its memory after the run, the usage rows it wrote."""

    recording: bool
    rss_kib: int
    peak_kib: int
    completed: int
    usage_rows: int | None  # None: no usage database was written at all
    relay_rss_kib: int
    relay_peak_kib: int


def ms(us: float) -> str:
    value = us / 1000
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def _row(values: Sequence[str]) -> str:
    return "| " + " | ".join(values) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    rule = ["---" if i < 2 else "---:" for i in range(len(header))]
    return "\n".join([_row(header), _row(rule), *(_row(r) for r in rows)])


def _recording(on: bool) -> str:
    return "on" if on else "off"


def _rps(value: float) -> str:
    return f"{value:,.0f}"


def _three(value: float) -> str:
    return f"{value:.3f}"


def cells_table(cells: Sequence[Cell], *, show_recording: bool) -> str:
    """One row per cell; req/s, latency and CPU are medians over its rounds."""
    header = [
        "stream",
        "conns",
        "direct req/s",
        "relay req/s",
        "429chain req/s",
        "429chain/relay min / med / max",
        "429chain/direct",
        "relay/direct",
        "added p50 ms vs relay",
        "added p99 ms vs relay",
        "CPU µs/req relay",
        "CPU µs/req 429chain",
        "CPU 429chain/relay",
    ]
    rows = [
        [
            c.kind,
            str(c.connections),
            _rps(c.median(lambda r: r.direct.rps)),
            _rps(c.median(lambda r: r.relay.rps)),
            _rps(c.median(lambda r: r.proxy.rps)),
            c.spread(lambda r: r.proxy_per_relay).show(_three),
            _three(c.median(lambda r: r.proxy_per_direct)),
            _three(c.median(lambda r: r.relay_per_direct)),
            ms(c.median(lambda r: r.added_p50_us)),
            ms(c.median(lambda r: r.added_p99_us)),
            f"{c.median(lambda r: r.relay_cpu_us):,.0f}",
            f"{c.median(lambda r: r.proxy_cpu_us):,.0f}",
            _three(c.median(lambda r: ratio(r.proxy_cpu_us, r.relay_cpu_us))),
        ]
        for c in cells
    ]
    if show_recording:
        header.insert(0, "recording")
        for cell, row in zip(cells, rows, strict=True):
            row.insert(0, _recording(cell.recording))
    return _table(header, rows)


def recording_table(cells: Sequence[Cell]) -> str:
    """Proxy figures (medians over rounds) with recording on against off, cell by cell."""
    off = {(c.kind, c.connections): c for c in cells if not c.recording}
    header = ["stream", "conns", "off req/s", "on req/s", "on/off", "off p50 ms", "on p50 ms"]
    rows = []
    for on in (c for c in cells if c.recording):
        base = off.get((on.kind, on.connections))
        if base is None:
            continue
        off_rps, on_rps = base.median(lambda r: r.proxy.rps), on.median(lambda r: r.proxy.rps)
        rows.append(
            [
                on.kind,
                str(on.connections),
                _rps(off_rps),
                _rps(on_rps),
                _three(ratio(on_rps, off_rps)),
                ms(base.median(lambda r: r.proxy.p50_us)),
                ms(on.median(lambda r: r.proxy.p50_us)),
            ]
        )
    return _table(header, rows)


def _usage(summary: ProxySummary) -> str:
    if summary.usage_rows is None:
        return f"{summary.completed:,} requests completed; no usage database written"
    return (
        f"{summary.completed:,} requests completed, {summary.usage_rows:,} request rows in its "
        "usage database (runs cut by wrk add up to one row per connection)"
    )


def summary_lines(summaries: Sequence[ProxySummary]) -> str:
    return "\n".join(
        f"- proxy (recording {_recording(s.recording)}): RSS {s.rss_kib / 1024:.1f} MiB after "
        f"the run (peak {s.peak_kib / 1024:.1f} MiB), the relay beside it "
        f"{s.relay_rss_kib / 1024:.1f} MiB (peak {s.relay_peak_kib / 1024:.1f} MiB); {_usage(s)}"
        for s in summaries
    )
