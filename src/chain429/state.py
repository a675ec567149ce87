"""`AppState`: everything one running proxy owns, built and torn down by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from chain429.clock import Clock
from chain429.config.schema import Config
from chain429.limits.tracker import LimitTracker
from chain429.router.upstream import UpstreamClient
from chain429.router.waterfall import Waterfall
from chain429.usage.records import UsageSink


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


STATE = web.AppKey("state", AppState)
