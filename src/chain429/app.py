"""Build the aiohttp application: routes, middlewares, and one lifespan that owns the state.

Shutdown, in aiohttp's order: the listening socket closes and idle connections with it; the
`on_shutdown` drain waits up to `settings.shutdownGraceMs` for the requests in flight, then cuts
the rest short (each still gets an answer and a record); aiohttp closes the connections (see
`server.CLOSE_TIMEOUT_S`); the lifespan saves the limit state and writes the queued records,
within `CLOSE_BUDGET_S`. So the process ends at most about 2 s after the grace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import structlog
from aiohttp import web

from chain429.admin.access import ACCESS_KEYS, AccessKeys
from chain429.admin.api_route import ApiRoute
from chain429.admin.config_events import publish_config_change
from chain429.admin.config_routes import config_read_routes
from chain429.admin.config_write_routes import config_write_routes
from chain429.admin.cors import cors_headers
from chain429.admin.dashboard_routes import WEB_ROOT, dashboard_routes
from chain429.admin.docs_routes import docs_routes
from chain429.admin.event_routes import HEARTBEAT_S, event_routes
from chain429.admin.limit_events import LIMITS_INTERVAL_S, LimitWatcher, read_limits
from chain429.admin.limits_view import TrackerLimitsView
from chain429.admin.metrics_routes import metrics_routes
from chain429.admin.model_catalog import ModelCatalog
from chain429.admin.model_routes import model_routes
from chain429.admin.original_write_routes import original_write_routes
from chain429.admin.ratelimit_routes import ratelimit_api_routes, ratelimit_routes
from chain429.admin.replica_routes import replica_routes
from chain429.admin.request_events import FleetPublishingSink, PublishingSink
from chain429.admin.stats_routes import stats_api_routes, stats_routes
from chain429.admin.trial_routes import original_trial_routes, trial_routes
from chain429.clock import Clock, SystemClock, wall_offset
from chain429.config.editor import ConfigEditor
from chain429.config.save import LOCAL_FILES, FileSystem
from chain429.config.schema import Config
from chain429.errors import Chain429Error, StartupError
from chain429.event_hub import BUFFER_SIZE, MAX_SUBSCRIBERS, EventHub, EventKind
from chain429.limits.snapshot import (
    restore_snapshot,
    shifted_snapshot,
    snapshot_problem,
    take_snapshot,
)
from chain429.limits.tracker import LimitTracker
from chain429.logs import LogSecrets
from chain429.proxy.middleware import front_door
from chain429.proxy.routes import models_body, proxy_routes
from chain429.reconfigure import apply_config
from chain429.router.key_info import KeyInfoReader
from chain429.router.plan import tracker_setup
from chain429.router.upstream import UpstreamClient
from chain429.router.waterfall import Waterfall
from chain429.server import CLIENT_TIMEOUT_S
from chain429.state import CONFIG_EDITOR, STATE, AppState, ShutdownReport
from chain429.state_store.opening import new_tracker, open_store
from chain429.tasks import create_task, stop
from chain429.upstream_http import AiohttpUpstream, get_once
from chain429.usage.limit_state import load_limit_state, save_limit_state
from chain429.usage.metrics import LabelNames
from chain429.usage.recording import Recording
from chain429.usage.records import UsageSink
from chain429.usage.request_line import RequestLines
from chain429.usage.store import UsageStoreError
from chain429.usage.tap import RecordTap

if TYPE_CHECKING:  # the redis client is imported only when settings.stateStore names Redis
    from chain429.state_store.wakes import FleetWakes

SNAPSHOT_INTERVAL_S = 30.0
#: After the drain, how long saving the limit state and writing the queued usage records may
#: take together before they are given up: a stuck database must not hold the exit.
CLOSE_BUDGET_S: Final = 1.0

log = structlog.get_logger("chain429.app")


@dataclass(frozen=True, slots=True)
class EventOptions:
    """The live events' timing and bounds (`GET /api/events`): the heartbeat and the limit
    state's reading interval, in seconds of the app's clock, each subscriber's buffer (in
    events) and how many subscribers there may be at once."""

    heartbeat_s: float = HEARTBEAT_S
    limits_interval_s: float = LIMITS_INTERVAL_S
    buffer_size: int = BUFFER_SIZE
    max_subscribers: int = MAX_SUBSCRIBERS


@dataclass(frozen=True, slots=True)
class AppOptions:
    """What tests and embedders may swap: the clock, the usage sink, the upstream client,
    where request lines go (none unless given: `429chain serve` passes the configured one),
    the live events' timing, the log's secrets, which a config change replaces
    (`429chain serve` passes them), and the config file that management writes and reloads
    edit (`429chain serve` passes its `--config`; without one, every write is a 409), with the
    file calls its saves make (tests cause a read-only file or a failing disk with them), the
    environment its `${VAR}`s and `CHAIN429_*` settings are read from when it is read again
    (the process's unless given), and the directory of the dashboard's build, served at `/`."""

    clock: Clock = field(default_factory=SystemClock)
    sink: UsageSink | None = None
    request_lines: RequestLines | None = None
    upstream_factory: Callable[[], UpstreamClient] = AiohttpUpstream.create
    events: EventOptions = field(default_factory=EventOptions)
    log_secrets: LogSecrets | None = None
    config_path: Path | None = None
    config_files: FileSystem = LOCAL_FILES
    config_environ: Mapping[str, str] | None = None
    web_root: Path = WEB_ROOT


def create_app(config: Config, options: AppOptions | None = None) -> web.Application:
    """The proxy as an aiohttp application. Does no I/O: the lifespan opens everything."""
    opts = options or AppOptions()
    settings = config.settings
    access = AccessKeys(settings)
    client_timeout_s = settings.client_timeout_ms / 1000
    app = web.Application(
        middlewares=[front_door(access.admit, client_timeout_s)],
        client_max_size=settings.max_body_bytes,
    )
    app[CLIENT_TIMEOUT_S] = client_timeout_s
    app[ACCESS_KEYS] = access
    app.on_response_prepare.append(cors_headers(access.allows_origin))
    recording = Recording(settings, opts.clock, names=LabelNames.of(config))
    app.add_routes(proxy_routes())
    app.add_routes(ratelimit_routes())
    app.add_routes(metrics_routes(recording.metrics))
    app.add_routes(stats_routes(recording.store, clock=opts.clock))
    catalog = ModelCatalog(opts.clock, get_once)
    api: list[ApiRoute] = [
        *ratelimit_api_routes(),
        *stats_api_routes(recording.store, clock=opts.clock),
        *config_read_routes(),
        *config_write_routes(),
        *original_write_routes(),
        *event_routes(heartbeat_s=opts.events.heartbeat_s),
        *trial_routes(),
        *original_trial_routes(),
        *model_routes(catalog),
        *replica_routes(),
    ]
    app.add_routes([route.route_def() for route in api])
    app.add_routes(docs_routes(api))
    app.add_routes(dashboard_routes(opts.web_root))
    app.on_cleanup.append(_closer(catalog))
    app.cleanup_ctx.append(_lifespan(config, opts, recording))
    app.on_shutdown.append(_drainer(recording))
    return app


def _closer(catalog: ModelCatalog) -> Callable[[web.Application], Awaitable[None]]:
    async def close(_app: web.Application) -> None:
        await catalog.close()

    return close


def _drainer(recording: Recording) -> Callable[[web.Application], Awaitable[None]]:
    async def drain(app: web.Application) -> None:
        await _drain(app[STATE], recording)

    return drain


async def _drain(state: AppState, recording: Recording) -> None:
    """Let the requests in flight finish within the grace; cut the rest short."""
    state.shutdown.records_written_before = recording.records_written
    in_flight = state.waterfall.in_flight
    grace_s = state.config.settings.shutdown_grace_ms / 1000
    if len(in_flight):
        log.info(
            "shutting down: waiting for requests in flight",
            requests=len(in_flight),
            grace_s=grace_s,
        )
    drained = await in_flight.drain(grace_s)
    state.shutdown.requests_drained, state.shutdown.requests_cut = drained
    state.shutdown.event_streams_closed = state.events.close()


def _lifespan(
    config: Config, opts: AppOptions, recording: Recording
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        started_at = time.time()
        clock = opts.clock
        store = await open_store(config.settings)

        def fresh_tracker() -> LimitTracker:
            return new_tracker(tracker_setup(config), config, clock, store)

        tracker = fresh_tracker()
        try:
            await recording.start()
        except UsageStoreError as exc:
            if store is not None:
                await store.close()
            setting = "settings.database" if config.settings.database else "settings.dbPath"
            raise StartupError(str(exc), setting) from exc
        tracker = await _restore_limits(recording, tracker, config, clock, fresh_tracker)
        upstream = opts.upstream_factory()
        events = EventHub(
            buffer_size=opts.events.buffer_size, max_subscribers=opts.events.max_subscribers
        )
        sink = opts.sink or recording.sink(opts.request_lines)
        fleet = None
        if store is not None:
            from chain429.state_store.fleet import Fleet  # imports redis

            fleet = Fleet(
                store,
                config.settings.state_store,
                events,
                lambda: app[STATE].config,
                lambda: app[STATE].tracker,
                clock,
                started_at=started_at,
            )
        publishing = (
            PublishingSink(sink, events)
            if fleet is None
            else FleetPublishingSink(sink, events, fleet.feed)
        )
        record_tap = RecordTap(publishing)
        waterfall = Waterfall(config, tracker, upstream, record_tap, clock)
        key_info = KeyInfoReader(lambda: waterfall.routing.plans, tracker, get_once, clock)
        await key_info.read_all()
        state = AppState(
            config=config,
            clock=clock,
            tracker=tracker,
            upstream=upstream,
            sink=sink,
            waterfall=waterfall,
            models_body=models_body(config, int(started_at)),
            started_at=started_at,
            events=events,
            metrics=recording.metrics,
            log_secrets=opts.log_secrets,
            record_tap=record_tap,
            client_timeout_s=app[CLIENT_TIMEOUT_S],
            state_store=store,
            fleet=fleet,
        )
        app[STATE] = state
        app[CONFIG_EDITOR] = _editor(state, app[ACCESS_KEYS], opts)
        sharing = wakes = None
        if store is not None:
            from chain429.state_store.config_sharing import ConfigSharing  # imports redis

            sharing = ConfigSharing(config.settings.state_store, app[CONFIG_EDITOR])
            await sharing.start()
            wakes = _fleet_wakes(config.settings.state_store, waterfall)
            await wakes.start()
        if fleet is not None:
            fleet.start()
        recording.metrics.limits = TrackerLimitsView(state)
        if store is not None:
            recording.metrics.state_shared = lambda: store.available
        watcher = LimitWatcher(
            events, lambda: read_limits(state), clock, opts.events.limits_interval_s
        )
        events.on_demand(EventKind.LIMITS, watcher)
        saver = create_task(_save_limits_every(recording, tracker, clock), name="limit-snapshots")
        reader = create_task(key_info.run(), name="key-info")
        try:
            yield
        finally:
            if sharing is not None:
                await sharing.close()
            if fleet is not None:
                await fleet.close()
            if wakes is not None:
                await wakes.close()
            events.close()
            await watcher.close()
            for task in (saver, reader):
                await stop(task)
            await upstream.close()
            await _close_recording(recording, tracker, clock, state.shutdown)
            if store is not None:
                await store.close()
            if opts.request_lines is not None:
                opts.request_lines.flush()

    return lifespan


def _fleet_wakes(url: str, waterfall: Waterfall) -> FleetWakes:
    """The subscription that wakes `waterfall`'s queues when another replica frees capacity."""
    from chain429.state_store.wakes import FleetWakes  # imports redis

    def wake(provider_id: str, model: str, wide: bool) -> None:
        waterfall.capacity_freed(provider_id, model, provider_wide=wide)

    return FleetWakes(url, wake)


def _editor(state: AppState, access: AccessKeys, opts: AppOptions) -> ConfigEditor:
    """The editor of the running config: a saved change is applied to the waterfall and the
    keys, then published as a `config` event."""

    def apply(new: Config) -> None:
        apply_config(state, new)
        access.update(new.settings)

    def published(old: Config, new: Config) -> None:
        publish_config_change(state.events, old, new)

    return ConfigEditor(
        opts.config_path,
        state.config,
        apply,
        environ=opts.config_environ,
        on_change=published,
        files=opts.config_files,
    )


async def _restore_limits(
    recording: Recording,
    tracker: LimitTracker,
    config: Config,
    clock: Clock,
    fresh: Callable[[], LimitTracker],
) -> LimitTracker:
    """`tracker` with the saved limit state restored into it. No saved state, or one that cannot
    be read or applied, is a cold start, said in the log: it never stops the proxy starting."""
    if recording.store is None:
        return tracker
    try:
        data = await load_limit_state(recording.store)
    except Chain429Error as exc:
        log.warning("limit state not restored: starting cold", error=str(exc))
        return tracker
    if data is None:
        if recording.store.existed:  # a database this start created has nothing to restore
            log.info("no saved limit state: starting cold")
        return tracker
    problem = snapshot_problem(data)
    if problem is not None:
        log.warning("limit state not restored: starting cold", error=problem)
        return tracker
    try:
        steady = shifted_snapshot(data, -wall_offset(clock))
        restored = restore_snapshot(tracker, config, steady, clock.now())
    except Exception as exc:  # a state no version wrote must not stop a start; a fresh tracker
        log.warning(  # drops what was half applied
            "limit state not restored: starting cold", error=f"{type(exc).__name__}: {exc}"
        )
        return fresh()
    log.info("limit state restored", entries=restored)
    return tracker


async def _save_limits(recording: Recording, tracker: LimitTracker, clock: Clock) -> None:
    if recording.store is None:
        return
    now, offset = clock.now(), wall_offset(clock)
    try:
        data = shifted_snapshot(take_snapshot(tracker, now), offset)
        await save_limit_state(recording.store, data, now + offset)
    except Chain429Error as exc:
        log.warning("limit state not saved", error=str(exc))
    except Exception:  # a bug in the snapshot must not end the periodic saves or the shutdown
        log.exception("limit state not saved")


async def _close_recording(
    recording: Recording, tracker: LimitTracker, clock: Clock, report: ShutdownReport
) -> None:
    """Save the limit state and write the queued records, giving up after `CLOSE_BUDGET_S`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CLOSE_BUDGET_S
    try:
        async with asyncio.timeout_at(deadline):
            await _save_limits(recording, tracker, clock)
    except TimeoutError:
        log.warning("limit state not saved", error=f"no answer within {CLOSE_BUDGET_S:g}s")
    report.records_lost = await recording.close(flush_deadline=deadline)
    report.records_flushed = recording.records_written - report.records_written_before


async def _save_limits_every(recording: Recording, tracker: LimitTracker, clock: Clock) -> None:
    while True:
        await asyncio.sleep(SNAPSHOT_INTERVAL_S)
        await _save_limits(recording, tracker, clock)
