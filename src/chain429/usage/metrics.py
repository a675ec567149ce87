"""Prometheus metrics, in a registry of our own (never the process-global one).

Counters and histograms are fed by `UsageMetrics.observe(record)`, once per answered request.
Gauges describing the present (cooldowns, remaining quota, in-flight requests, queue depths,
the usage writer's backlog and drops) are read from callbacks when `/metrics` is scraped: the
core implements `LimitsView`, the batch writer satisfies `WriterStats`. A request no entry
served has the empty string as its provider and model label. Keys appear only by key label.

Chain and model labels come only from the config (`LabelNames`): a name a client chose (a
`provider/model` address, an unknown model refused under `strictModels`) is counted under the
label `(other)`, so no client can grow `/metrics` or the tallies behind it.

The label sets of a (chain, provider, model) are resolved once (`_EntryLabels`) and kept in a
bounded cache that a new `LabelNames` (a config change) empties: a request then costs a few
dict lookups instead of resolving names and building five label tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from chain429.clock import Clock
from chain429.config.schema import Config
from chain429.usage.records import RequestRecord
from chain429.usage.tally import CounterTable, HistogramTable, Labels

LATENCY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
TTFT_BUCKETS: Final = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ENTRY_LABELS: Final = ("provider", "key", "model")
_STATUS_TEXT: Final = {code: str(code) for code in range(100, 600)}
OTHER: Final = "(other)"
#: (chain, provider, model) triples whose label sets are kept; past it the cache starts again,
#: so names a client chose (counted as `(other)`) cannot grow it without bound.
MAX_CACHED_ENTRIES: Final = 1024


@dataclass(frozen=True, slots=True)
class LabelNames:
    """The chain names and (provider, model) entries of the config: the only names used as
    labels; any other chain or model is `(other)`. Without them (None) every name is a label."""

    chains: frozenset[str] | None = None
    entries: frozenset[tuple[str, str]] | None = None

    @classmethod
    def of(cls, config: Config) -> LabelNames:
        entries = {(e.provider, e.model) for chain in config.chains for e in chain.entries}
        return cls(frozenset(c.name for c in config.chains), frozenset(entries))

    def chain(self, name: str) -> str:
        return name if self.chains is None or name in self.chains else OTHER

    def model(self, provider_id: str, model: str) -> str:
        return model if self.listed(provider_id, model) else OTHER

    def listed(self, provider_id: str, model: str) -> bool:
        return self.entries is None or (provider_id, model) in self.entries


@dataclass(frozen=True, slots=True)
class QuotaFigure:
    """One limit of one entry: `metric` is "requests" or "tokens", `window` e.g. "minute"."""

    metric: str
    window: str
    limit: float | None
    remaining: float | None


@dataclass(frozen=True, slots=True)
class EntryLimits:
    """What limits knows now about one (provider, key, model)."""

    provider_id: str
    key_label: str | None
    model: str
    cooldown_until: float | None = None
    in_flight: int = 0
    quotas: tuple[QuotaFigure, ...] = ()


class LimitsView(Protocol):
    """Implemented by the core's limits state; called on the event loop at scrape time."""

    def entry_limits(self) -> Iterable[EntryLimits]: ...

    def queue_depths(self) -> Mapping[str, int]:
        """Requests waiting for capacity, per chain (queue mode)."""
        ...


class WriterStats(Protocol):
    @property
    def queue_depth(self) -> int: ...

    @property
    def dropped_by_reason(self) -> Mapping[str, int]: ...

    @property
    def failed(self) -> int: ...


class UsageMetrics:
    """The metrics registry plus `observe(record)`; `render()` gives the text exposition.

    `observe` must be called from one thread (the event loop's): the tallies take no lock.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        writer: WriterStats | None = None,
        limits: LimitsView | None = None,
        names: LabelNames | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.limits = limits
        self.state_shared: Callable[[], bool] | None = None
        """Whether the limit state is shared through Redis now, when it is meant to be."""
        self._names = names or LabelNames()
        self._entries: dict[tuple[str, str | None, str | None], _EntryLabels] = {}
        labels = ("chain", "provider", "model")
        self._requests = CounterTable(
            "chain429_requests",
            "Requests answered, by serving entry and HTTP status.",
            (*labels, "status"),
        )
        self._attempts = CounterTable(
            "chain429_attempts", "Chain entries tried or skipped, by outcome.", (*labels, "outcome")
        )
        self._tokens = CounterTable(
            "chain429_tokens",
            "Tokens reported by upstreams, by kind (prompt or completion).",
            (*labels, "kind"),
        )
        self._latency = HistogramTable(
            "chain429_request_latency_seconds",
            "Time from request to the end of the response.",
            labels,
            LATENCY_BUCKETS,
        )
        self._ttft = HistogramTable(
            "chain429_time_to_first_token_seconds",
            "Time from request to the first content sent to the client (streams).",
            labels,
            TTFT_BUCKETS,
        )
        tables = (self._requests, self._attempts, self._tokens, self._latency, self._ttft)
        self.registry.register(_TableCollector(tables))
        self.registry.register(_StateCollector(self, clock, writer))

    @property
    def names(self) -> LabelNames:
        return self._names

    @names.setter
    def names(self, names: LabelNames) -> None:
        self._names = names
        self._entries = {}  # resolved under the old names

    def observe(self, record: RequestRecord) -> None:
        chain = record.chain
        served = self._labels(chain, record.provider_id, record.model)
        self._requests.inc(served.status(record.status))
        if record.prompt_tokens:
            self._tokens.inc(served.prompt, record.prompt_tokens)
        if record.completion_tokens:
            self._tokens.inc(served.completion, record.completion_tokens)
        self._latency.observe(served.labels, record.latency_ms / 1000)
        if record.ttft_ms is not None:
            self._ttft.observe(served.labels, record.ttft_ms / 1000)
        inc = self._attempts.inc
        for a in record.attempts:
            inc(self._labels(chain, a.provider_id, a.model).outcome(a.outcome.value))

    def _labels(self, chain: str, provider: str | None, model: str | None) -> _EntryLabels:
        key = (chain, provider, model)
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= MAX_CACHED_ENTRIES:
                self._entries = {}
            entry = self._entries[key] = _EntryLabels.of(self._names, chain, provider, model)
        return entry

    def render(self) -> bytes:
        """The classic Prometheus text format."""
        return generate_latest(self.registry)

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The body and content type a scraper sending `accept` asked for (text or OpenMetrics)."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


class _EntryLabels:
    """The label sets of one (chain, provider, model): the entry's own, one per token kind, and
    one per status and per attempt outcome as they are met. A request no entry served has the
    empty string as its provider and model."""

    __slots__ = ("completion", "labels", "outcomes", "prompt", "statuses")

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self.prompt = (*labels, "prompt")
        self.completion = (*labels, "completion")
        self.statuses: dict[int, Labels] = {}
        self.outcomes: dict[str, Labels] = {}

    @classmethod
    def of(
        cls, names: LabelNames, chain: str, provider: str | None, model: str | None
    ) -> _EntryLabels:
        provider = provider or ""
        return cls((names.chain(chain), provider, names.model(provider, model) if model else ""))

    def status(self, status: int) -> Labels:
        labels = self.statuses.get(status)
        if labels is None:
            text = _STATUS_TEXT.get(status)
            if text is None:  # not an HTTP status: not kept, so it cannot grow the cache
                return (*self.labels, str(status))
            labels = self.statuses[status] = (*self.labels, text)
        return labels

    def outcome(self, outcome: str) -> Labels:
        labels = self.outcomes.get(outcome)
        if labels is None:
            labels = self.outcomes[outcome] = (*self.labels, outcome)
        return labels


class _TableCollector(Collector):
    def __init__(self, tables: tuple[CounterTable | HistogramTable, ...]) -> None:
        self._tables = tables

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterator[Metric]:
        return (table.family() for table in self._tables)


class _StateCollector(Collector):
    """Gauges read at scrape time from the writer and the limits view."""

    def __init__(self, metrics: UsageMetrics, clock: Clock, writer: WriterStats | None) -> None:
        self._metrics = metrics
        self._clock = clock
        self._writer = writer

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterator[Metric]:
        if self._writer is not None:
            yield from self._writer_metrics(self._writer)
        if self._metrics.limits is not None:
            yield from self._limit_metrics(self._metrics.limits)
        shared = self._metrics.state_shared
        if shared is not None:
            yield GaugeMetricFamily(
                "chain429_state_store_shared",
                "1 while the limit state is shared through Redis (settings.stateStore), 0 while "
                "Redis is unreachable and this replica serves on its own state.",
                value=1 if shared() else 0,
            )

    @staticmethod
    def _writer_metrics(writer: WriterStats) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "chain429_usage_queue_depth",
            "Usage records waiting to be written.",
            value=writer.queue_depth,
        )
        dropped = CounterMetricFamily(
            "chain429_usage_records_dropped",
            "Usage records never stored, by reason: queue_full, writer_closed, read_only, "
            "locked, full, database_error, refused, given_up, unavailable.",
            labels=("reason",),
        )
        for reason, count in writer.dropped_by_reason.items():
            dropped.add_metric([reason], count)
        yield dropped
        yield CounterMetricFamily(
            "chain429_usage_records_failed",
            "Usage records the database failed to store.",
            value=writer.failed,
        )

    def _limit_metrics(self, limits: LimitsView) -> Iterator[Metric]:
        now = self._clock.now()
        cooldown = GaugeMetricFamily(
            "chain429_entry_cooldown_remaining_seconds",
            "Seconds until a cooling entry may be tried again (0 when not cooling).",
            labels=ENTRY_LABELS,
        )
        in_flight = GaugeMetricFamily(
            "chain429_entry_in_flight", "Requests in flight per entry.", labels=ENTRY_LABELS
        )
        quota_labels = (*ENTRY_LABELS, "metric", "window")
        remaining = GaugeMetricFamily(
            "chain429_entry_quota_remaining", "Remaining quota per entry.", labels=quota_labels
        )
        limit = GaugeMetricFamily(
            "chain429_entry_quota_limit", "Quota limit per entry.", labels=quota_labels
        )
        known = self._metrics.names
        for entry in limits.entry_limits():
            if not known.listed(entry.provider_id, entry.model):
                continue  # per-entry gauges exist for the config's entries only
            names = [entry.provider_id, entry.key_label or "", entry.model]
            until = entry.cooldown_until
            cooldown.add_metric(names, max(0.0, until - now) if until is not None else 0.0)
            in_flight.add_metric(names, entry.in_flight)
            for quota in entry.quotas:
                if quota.remaining is not None:
                    remaining.add_metric([*names, quota.metric, quota.window], quota.remaining)
                if quota.limit is not None:
                    limit.add_metric([*names, quota.metric, quota.window], quota.limit)
        queued = GaugeMetricFamily(
            "chain429_chain_queue_depth", "Requests waiting for capacity.", labels=("chain",)
        )
        depths: dict[str, int] = {}
        for chain, depth in limits.queue_depths().items():
            label = known.chain(chain)
            depths[label] = depths.get(label, 0) + depth
        for chain, depth in depths.items():
            queued.add_metric([chain], depth)
        yield from (cooldown, in_flight, remaining, limit, queued)
