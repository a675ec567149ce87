"""Build the aiohttp application: routes, middlewares, and one lifespan that owns the state."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web

from chain429.admin.ratelimit_routes import ratelimit_routes
from chain429.clock import Clock, SystemClock
from chain429.config.schema import Config
from chain429.limits.tracker import LimitTracker, policy_from
from chain429.proxy.middleware import auth_middleware, error_middleware
from chain429.proxy.routes import models_body, proxy_routes
from chain429.router.plan import build_traits
from chain429.router.upstream import AiohttpUpstream, UpstreamClient
from chain429.router.waterfall import Waterfall
from chain429.state import STATE, AppState
from chain429.usage.records import DiscardingSink, UsageSink

PROTECTED_PREFIXES = ("/v1", "/api", "/metrics")


@dataclass(frozen=True, slots=True)
class AppOptions:
    """What tests and embedders may swap: the clock, the usage sink, the upstream client."""

    clock: Clock = field(default_factory=SystemClock)
    sink: UsageSink | None = None
    upstream_factory: Callable[[], UpstreamClient] = AiohttpUpstream.create


def create_app(config: Config, options: AppOptions | None = None) -> web.Application:
    opts = options or AppOptions()
    settings = config.settings
    app = web.Application(
        middlewares=[
            error_middleware(),
            auth_middleware(settings.api_keys, PROTECTED_PREFIXES),
        ],
        client_max_size=settings.max_body_bytes,
    )
    app.add_routes(proxy_routes())
    app.add_routes(ratelimit_routes())
    app.cleanup_ctx.append(_lifespan(config, opts))
    return app


def _lifespan(config: Config, opts: AppOptions) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        started_at = time.time()
        clock = opts.clock
        tracker = LimitTracker(policy_from(config.settings), clock, build_traits(config))
        upstream = opts.upstream_factory()
        sink = opts.sink or DiscardingSink()
        waterfall = Waterfall(config, tracker, upstream, sink, clock)
        app[STATE] = AppState(
            config=config,
            clock=clock,
            tracker=tracker,
            upstream=upstream,
            sink=sink,
            waterfall=waterfall,
            models_body=models_body(config, int(started_at)),
            started_at=started_at,
        )
        try:
            yield
        finally:
            await upstream.close()

    return lifespan
