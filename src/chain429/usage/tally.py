"""Lock-free counters and histograms for the event loop, exposed through prometheus_client.

prometheus_client's own `Counter` and `Histogram` take a lock and walk every bucket on each
update, several microseconds per request across the metrics 429chain keeps. Updates here all
happen on the event loop thread, so a dict of floats and a `bisect` are enough; the families are
built only when `/metrics` is scraped.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

Labels = tuple[str, ...]


class CounterTable:
    """A counter per label set."""

    def __init__(self, name: str, documentation: str, label_names: Sequence[str]) -> None:
        self.name = name
        self._documentation = documentation
        self._label_names = list(label_names)
        self.values: dict[Labels, float] = {}

    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        values = self.values
        values[labels] = values.get(labels, 0.0) + amount

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self._documentation, labels=self._label_names)
        for labels, value in list(self.values.items()):
            family.add_metric(list(labels), value)
        return family


class HistogramTable:
    """A histogram per label set: one count per bucket (not cumulative) and the sum."""

    def __init__(
        self,
        name: str,
        documentation: str,
        label_names: Sequence[str],
        buckets: Sequence[float],
    ) -> None:
        self.name = name
        self._documentation = documentation
        self._label_names = list(label_names)
        self._bounds = tuple(sorted(buckets))
        self._cells: dict[Labels, list[float]] = {}

    def observe(self, labels: Labels, value: float) -> None:
        cells = self._cells.get(labels)
        if cells is None:
            cells = self._cells[labels] = [0.0] * (len(self._bounds) + 2)
        cells[bisect_left(self._bounds, value)] += 1
        cells[-1] += value

    def family(self) -> Metric:
        family = HistogramMetricFamily(self.name, self._documentation, labels=self._label_names)
        for labels, cells in list(self._cells.items()):
            family.add_metric(list(labels), list(self._cumulative(cells)), sum_value=cells[-1])
        return family

    def _cumulative(self, cells: list[float]) -> Iterator[tuple[str, float]]:
        running = 0.0
        for bound, count in zip((*self._bounds, float("inf")), cells[:-1], strict=True):
            running += count
            yield ("+Inf" if bound == float("inf") else repr(bound)), running
