"""`AppState`: everything one running proxy owns, built and torn down by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from chain429.clock import Clock
from chain429.config.editor import ConfigEditor
from chain429.config.schema import Config
from chain429.event_hub import EventHub
from chain429.limits.tracker import LimitTracker
from chain429.logs import LogSecrets
from chain429.router.upstream import UpstreamClient
from chain429.router.waterfall import Waterfall
from chain429.usage.metrics import UsageMetrics
from chain429.usage.records import UsageSink
from chain429.usage.tap import RecordTap

if TYPE_CHECKING:  # the redis client is imported only when settings.stateStore names Redis
    from chain429.state_store.store import StateStore


@dataclass(slots=True)
class ShutdownReport:
    """What the shutdown did: requests that finished within the grace and requests cut short
    at its end; event streams ended after them (they are not waited for); usage records written
    from its start to the end, and records given up."""

    requests_drained: int = 0
    requests_cut: int = 0
    event_streams_closed: int = 0
    records_flushed: int = 0
    records_lost: int = 0
    records_written_before: int = field(default=0, repr=False)

    def summary(self) -> dict[str, int]:
        """The figures worth a log line."""
        return {
            "requests_drained": self.requests_drained,
            "requests_cut": self.requests_cut,
            "event_streams_closed": self.event_streams_closed,
            "records_flushed": self.records_flushed,
            "records_lost": self.records_lost,
        }


@dataclass(slots=True)
class AppState:
    config: Config
    clock: Clock
    tracker: LimitTracker
    upstream: UpstreamClient
    sink: UsageSink
    waterfall: Waterfall
    models_body: bytes
    started_at: float
    record_tap: RecordTap
    client_timeout_s: float
    """`settings.clientTimeoutMs` as the proxy started with it (a change waits for a restart):
    how long a client may read nothing of its answer before it is dropped."""
    shutdown: ShutdownReport = field(default_factory=ShutdownReport)
    events: EventHub = field(default_factory=EventHub)
    metrics: UsageMetrics | None = None
    log_secrets: LogSecrets | None = None
    """The secrets the log redacts, when this app configured the log (`429chain serve`)."""
    state_store: StateStore | None = None
    """The store the limit state is shared through (`settings.stateStore`), None for memory."""

    def state_store_status(self) -> str:
        """`memory` (this process's own state), `shared` (through Redis) or `local` (Redis
        unreachable: this replica serves on its own state until it answers)."""
        store = self.state_store
        if store is None:
            return "memory"
        return "shared" if store.available else "local"


STATE = web.AppKey("state", AppState)
#: The one way a change reaches the running config (the management API's writes, SIGHUP).
CONFIG_EDITOR = web.AppKey("config_editor", ConfigEditor)
