"""Swap a new configuration into the running proxy, live: no restart, no request dropped.

`apply_config` is one synchronous step for the event loop (DESIGN.md, "Live changes"): it
builds everything the new config needs first (the waterfall's `Routing` snapshot, the
tracker's setup, the models list, the metric label names), then swaps them in with nothing
left that can fail. Requests in flight finish on the snapshot they started with; the next
ones see the new config. The limit state of every unchanged (provider, key, model) is kept
(`limits.carryover`); the queues, the redactors' secrets, the metric labels, `/v1/models`,
`/health` and the limit views follow.

Settings read once at startup (the listening socket, the database, the body size limit, the
log setup, the retention) change only at a restart: `Applied.restart_required`
names those a change touched, and a log line says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Final

import structlog
from pydantic.alias_generators import to_camel

from chain429.config.schema import Config, ProviderConfig, Settings
from chain429.proxy.routes import models_body
from chain429.router.plan import tracker_setup
from chain429.router.routing import build_routing
from chain429.state import AppState
from chain429.usage.metrics import LabelNames

#: The settings that take effect only when the proxy restarts, as config field paths: the one
#: list (the management API's answers and the README name these). The keys, CORS origins and
#: `metricsPublic` are live: `admin.access.AccessKeys` follows them.
RESTART_REQUIRED: Final = frozenset(
    {
        "settings.host",
        "settings.port",
        "settings.logLevel",
        "settings.dbPath",
        "settings.database",
        "settings.recordUsage",
        "settings.maxBodyBytes",
        "settings.logRetentionDays",
        "settings.clientTimeoutMs",
        "settings.stateStore",
    }
)
_KEY_FIELDS: Final = frozenset({"api_key", "api_keys"})


@dataclass(frozen=True, slots=True)
class Applied:
    """What a change changed: provider ids and chain names added, removed or changed, and the
    settings changed, as field paths (`settings.queueMode`); `restart_required` are those of
    them that take effect only at the next start."""

    providers_added: tuple[str, ...] = ()
    providers_removed: tuple[str, ...] = ()
    providers_changed: tuple[str, ...] = ()
    chains_added: tuple[str, ...] = ()
    chains_removed: tuple[str, ...] = ()
    chains_changed: tuple[str, ...] = ()
    settings_changed: tuple[str, ...] = ()
    restart_required: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the new config differs from the running one at all."""
        return any(getattr(self, f.name) for f in fields(self))


def changes(old: Config, new: Config) -> Applied:
    """What replacing `old` with `new` changes."""
    providers = _compare({p.id: p for p in old.providers}, {p.id: p for p in new.providers})
    chains = _compare({c.name: c for c in old.chains}, {c.name: c for c in new.chains})
    settings = _changed_settings(old.settings, new.settings)
    return Applied(
        *providers,
        *chains,
        settings_changed=settings,
        restart_required=tuple(path for path in settings if path in RESTART_REQUIRED),
    )


def apply_config(state: AppState, new: Config) -> Applied:
    """Run `new` from now on, in place of `state.config` (which the caller has validated and,
    when it comes from the API, saved). Returns what changed."""
    old = state.config
    applied = changes(old, new)
    routing = build_routing(new, state.upstream, state.clock)
    setup = tracker_setup(new)
    models = models_body(new, int(state.started_at))
    names = LabelNames.of(new)
    state.tracker.reconfigure(setup, _revised(old, new))
    state.waterfall.reconfigure(routing)
    state.config, state.models_body = new, models
    if state.metrics is not None:
        state.metrics.names = names
    if state.log_secrets is not None:
        # a key removed from the config is still somebody's key: it stays redacted
        state.log_secrets.replace(state.log_secrets.secrets | set(new.secrets()))
    _log(applied)
    return applied


def _compare(
    old: Mapping[str, object], new: Mapping[str, object]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Names added, removed, and present in both with another value."""
    added = tuple(name for name in new if name not in old)
    removed = tuple(name for name in old if name not in new)
    changed = tuple(name for name, value in new.items() if name in old and old[name] != value)
    return added, removed, changed


def _changed_settings(old: Settings, new: Settings) -> tuple[str, ...]:
    return tuple(
        f"settings.{to_camel(name)}"
        for name in Settings.model_fields
        if getattr(old, name) != getattr(new, name)
    )


def _revised(old: Config, new: Config) -> frozenset[str]:
    """Providers whose config changed other than in their keys (what they set aside may be
    fixed now)."""
    before = {p.id: _without_keys(p) for p in old.providers}
    return frozenset(
        p.id for p in new.providers if p.id in before and before[p.id] != _without_keys(p)
    )


def _without_keys(provider: ProviderConfig) -> tuple[object, ...]:
    return tuple(
        getattr(provider, name) for name in ProviderConfig.model_fields if name not in _KEY_FIELDS
    )


def _log(applied: Applied) -> None:
    # Looked up per change (rare), not cached at import: it writes where logging points now.
    log = structlog.get_logger("chain429.config")
    summary = {
        f.name: list(value)
        for f in fields(applied)
        if (value := getattr(applied, f.name)) and f.name != "restart_required"
    }
    log.info("config applied", **summary)
    if applied.restart_required:
        log.warning(
            "config change needs a restart",
            settings=list(applied.restart_required),
            reason="these settings are read once at startup; restart 429chain to apply them",
        )
