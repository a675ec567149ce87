"""Reading the limits providers state at an endpoint of their own (OpenRouter's
`GET /api/v1/key`), apart from any request.

The app reads every such key at start, before it serves the first request, then every
`KEY_INFO_INTERVAL_S` (the keys of the running configuration, which may have changed), never on
a request's path. Each read is bounded by `KEY_INFO_TIMEOUT_S`;
a failure (no answer, an error status, a body that does not read) is logged and changes
nothing, and the next round tries again. What a read states is fed to the key's state
(`limits.account`), so admission counts it from the first request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple

import orjson
import structlog

from chain429.clock import Clock
from chain429.errors import UpstreamError
from chain429.limits.account import feed
from chain429.limits.tracker import LimitTracker, key_label
from chain429.router.plan import ProviderPlan
from chain429.router.upstream import MAX_ERROR_BODY_BYTES, Fetch

KEY_INFO_INTERVAL_S: Final = 300.0
KEY_INFO_TIMEOUT_S: Final = 5.0

log = structlog.get_logger("chain429.router")


class KeyInfoTarget(NamedTuple):
    """One key (`key_index` of its provider) whose limits its provider states at `url`."""

    plan: ProviderPlan
    key_index: int
    url: str


class KeyInfoReader:
    """Reads the key endpoints of the providers (in the `plans` of the running configuration)
    that have one: one key per set of keys that share their limits."""

    def __init__(
        self,
        plans: Callable[[], Mapping[str, ProviderPlan]],
        tracker: LimitTracker,
        fetch: Fetch,
        clock: Clock,
    ) -> None:
        self._plans = plans
        self._tracker = tracker
        self._fetch = fetch
        self._clock = clock

    def targets(self) -> list[KeyInfoTarget]:
        """The keys to read now."""
        targets: list[KeyInfoTarget] = []
        for plan in self._plans().values():
            provider = plan.provider
            url = plan.adapter.key_info_url(provider)
            if url is None:
                continue
            slots: set[int] = set()
            for index in range(len(provider.keys)):
                slot = self._tracker.slot(provider.id, index)
                if slot not in slots:
                    slots.add(slot)
                    targets.append(KeyInfoTarget(plan, index, url))
        return targets

    async def read_all(self) -> int:
        """Read every target once, at the same time; how many were read and applied."""
        targets = self.targets()
        if not targets:
            return 0
        done = await asyncio.gather(*(self._read(target) for target in targets))
        return sum(done)

    async def run(self, interval_s: float = KEY_INFO_INTERVAL_S) -> None:
        """Read every target every `interval_s`, until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            await self.read_all()

    async def _read(self, target: KeyInfoTarget) -> bool:
        plan, index, url = target
        provider = plan.provider
        where = {"provider": provider.id, "key": key_label(provider.keys[index], index)}
        try:
            # A backstop for a fetch that ignores its own timeout: later than that timeout, so
            # a fetch that keeps it always says so itself (the two used to race).
            async with asyncio.timeout(2 * KEY_INFO_TIMEOUT_S):
                fetched = self._fetch(
                    url, plan.headers[index], KEY_INFO_TIMEOUT_S, MAX_ERROR_BODY_BYTES
                )
                status, body = await fetched
        except TimeoutError:
            log.warning("key limits not read", **where, error="no answer in time")
            return False
        except UpstreamError as exc:
            log.warning("key limits not read", **where, error=str(exc))
            return False
        if status != 200:
            log.warning("key limits not read", **where, error=f"HTTP {status}")
            return False
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            log.warning("key limits not read", **where, error="the answer is not JSON")
            return False
        limits = plan.adapter.key_limits(document)
        key = self._tracker.ensure_key_state(provider.id, self._tracker.slot(provider.id, index))
        changed = feed(key, limits, self._clock.now(), self._clock)
        log.debug("key limits read", **where, limits=len(limits), changed=changed)
        return True
