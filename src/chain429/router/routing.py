"""`Routing`: one running configuration as the waterfall reads it, worked out once.

A config change builds a new `Routing` and the waterfall swaps one reference to it; a request
reads that reference once, when it starts, and walks on the snapshot it got to its end, so the
requests in flight finish as they began while new ones see the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chain429.clock import Clock
from chain429.config.schema import Config
from chain429.redaction import Redactor
from chain429.router.attempt import Attempter
from chain429.router.chain import ChainResolver
from chain429.router.plan import ProviderPlan, build_plans
from chain429.router.upstream import UpstreamClient


@dataclass(frozen=True, slots=True)
class Routing:
    """The config, its chains (`resolver`), each provider's plan, the redactor of its secrets
    and the attempter that uses it, and the settings a walk reads."""

    config: Config
    resolver: ChainResolver
    plans: Mapping[str, ProviderPlan]
    redactor: Redactor
    attempter: Attempter
    normalize: bool
    stream_idle_s: float
    queue_wait_s: float
    probe_wait_s: float


def build_routing(config: Config, upstream: UpstreamClient, clock: Clock) -> Routing:
    settings = config.settings
    redactor = Redactor(config.secrets())
    return Routing(
        config=config,
        resolver=ChainResolver(config, redactor),
        plans=build_plans(config),
        redactor=redactor,
        attempter=Attempter(upstream, redactor, clock.now, clock.wall),
        normalize=settings.normalize_responses,
        stream_idle_s=settings.stream_idle_timeout_ms / 1000,
        queue_wait_s=settings.queue_max_wait_ms / 1000,
        probe_wait_s=settings.probe_wait_ms / 1000,
    )
