"""The stage of one scenario: simulated providers, the proxy in front of them (in this process
and event loop), an openai SDK client, and a trace of every call the providers received.

The trace wraps each simulated provider's `decide` so that every upstream call is recorded with
the simulator's true window state and the proxy's own view of that provider's limits at that
instant; a wasted call (a 429 upstream) can then be explained, not just counted.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import openai
from aiohttp import web

from chain429.app import create_app
from chain429.config.load import validate_config
from chain429.limits.tracker import LimitTracker
from chain429.limits.window import WindowState
from chain429.server import RunningServer, start_server
from chain429.sim.config import SimProviderConfig
from chain429.sim.provider import Decision, SimProvider
from chain429.sim.replies import Endpoint
from chain429.sim.simulator import Simulator
from chain429.state import STATE

CLIENT_KEY = "bench-client-key-0001"
PROVIDER_KEY = "sim-provider-key-bench-0001"
CHAIN = "bench"
BASE_SETTINGS: Mapping[str, Any] = {
    "apiKeys": [CLIENT_KEY],
    "defaultChain": CHAIN,
    "requestTimeoutMs": 5_000,
    "streamIdleTimeoutMs": 2_000,
    "cooldownDefaultMs": 10_000,
    "failurePenaltyMs": 1_000,
}

SimWindows = Mapping[str, Mapping[str, Any] | None]
"""A provider's window state as the simulator reports it: `requests`, `tokens`, `day`."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One simulated provider and how the proxy is told about it (`type` picks the dialect)."""

    sim: SimProviderConfig
    type: str
    model: str = "sim-small"
    rate_limits: Mapping[str, int] | None = None

    @property
    def name(self) -> str:
        return self.sim.name


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """One call a simulated provider received, and how it was answered."""

    at: float
    provider: str
    tag: str | None
    stream: bool
    status: int
    action: str
    drop_after: int | None
    truth: Mapping[str, SimWindows]
    """Every provider's true window state just before this call was decided."""
    views: Mapping[str, str]
    """Every provider's limit state in the proxy just before (this call's reservation
    included)."""


@dataclass(slots=True)
class Rig:
    """Start with `async with Rig(entries) as rig`; the chain `bench` walks `entries` in order."""

    entries: Sequence[Entry]
    settings: Mapping[str, Any] = field(default_factory=dict)
    trace: list[UpstreamCall] = field(default_factory=list)
    started_at: float = 0.0
    _sim: Simulator | None = None
    _server: RunningServer | None = None
    _app: web.Application | None = None
    _client: openai.AsyncOpenAI | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    async def __aenter__(self) -> Rig:
        self._tmp = tempfile.TemporaryDirectory(prefix="429chain-bench-")
        self._sim = Simulator([e.sim for e in self.entries])
        await self._sim.start()
        self._app = create_app(self._config(self._sim, self._tmp.name))
        self._server = await start_server(self._app, "127.0.0.1", 0)
        for entry in self.entries:
            self._trace(self._sim.provider(entry.name))
        self._client = openai.AsyncOpenAI(
            base_url=f"{self._server.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=60.0
        )
        self.started_at = time.time()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.close()
        if self._server is not None:
            await self._server.stop()
        if self._sim is not None:
            await self._sim.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    @property
    def client(self) -> openai.AsyncOpenAI:
        assert self._client is not None, "rig not started"
        return self._client

    @property
    def sim(self) -> Simulator:
        assert self._sim is not None, "rig not started"
        return self._sim

    @property
    def tracker(self) -> LimitTracker:
        assert self._app is not None, "rig not started"
        return self._app[STATE].tracker

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)

    def stats(self, name: str) -> dict[str, Any]:
        return self.sim.stats(name)

    def truth(self) -> dict[str, SimWindows]:
        """Every provider's window state according to the simulator, now."""
        return {name: self.sim.stats(name)["window"] for name in self.names}

    def calls(self, provider: str) -> list[UpstreamCall]:
        return [c for c in self.trace if c.provider == provider]

    def _config(self, sim: Simulator, tmp: str) -> Any:
        providers = []
        for entry in self.entries:
            provider: dict[str, Any] = {
                "id": entry.name,
                "name": entry.name,
                "type": entry.type,
                "apiKey": PROVIDER_KEY,
                "baseUrl": sim.base_url(entry.name),
            }
            if entry.rate_limits:
                provider["rateLimits"] = dict(entry.rate_limits)
            providers.append(provider)
        chain = [{"provider": e.name, "model": e.model} for e in self.entries]
        return validate_config(
            {
                "version": 1,
                "settings": {**BASE_SETTINGS, "dbPath": f"{tmp}/bench.db", **self.settings},
                "providers": providers,
                "chains": [{"name": CHAIN, "entries": chain}],
            }
        )

    def _trace(self, provider: SimProvider) -> None:
        decide = provider.decide

        def traced(endpoint: Endpoint, body: Any, authorization: str | None) -> Decision:
            truth = self.truth()
            now = time.time()
            views = {name: describe_limits(self.tracker, name, now) for name in self.names}
            decision = decide(endpoint, body, authorization)
            self.trace.append(
                UpstreamCall(
                    at=time.time(),
                    provider=provider.name,
                    tag=_tag(body),
                    stream=decision.stream,
                    status=decision.status,
                    action=decision.action.value,
                    drop_after=decision.drop_after,
                    truth=truth,
                    views=views,
                )
            )
            return decision

        provider.decide = traced  # type: ignore[method-assign]  # the trace wraps each decision


def _tag(body: Any) -> str | None:
    try:
        content = body["messages"][0]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def describe_limits(tracker: LimitTracker, provider_id: str, now: float) -> str:
    """The proxy's view of one provider's limits, for evidence: entries, key windows."""
    parts: list[str] = []
    for (pid, slot, model), entry in tracker.model_states():
        if pid != provider_id:
            continue
        cooling = entry.cooldown_until - now
        head = f"entry {model}#{slot} in_flight={entry.in_flight}"
        if cooling > 0:
            head += f" cooldown {cooling:.2f}s ({entry.reason})"
        windows = [_window(w, now) for w in entry.windows.values()]
        parts.append(head + (": " + "; ".join(windows) if windows else ""))
    for (pid, _index), key in tracker.key_states():
        if pid != provider_id:
            continue
        cooling = key.cooldown_until - now
        windows = [_window(w, now) for w in key.windows.values()]
        if windows or cooling > 0:
            text = "key" + (f" cooldown {cooling:.2f}s" if cooling > 0 else "")
            parts.append(text + ": " + "; ".join(windows))
    return " | ".join(parts) or "nothing known"


def _window(window: WindowState, now: float) -> str:
    reset = "?" if window.reset_at is None else f"{window.reset_at - now:.3f}s"
    return (
        f"{window.kind.value}/{window.window.value} limit={window.limit} "
        f"remaining={window.remaining} in_flight={window.in_flight} reset_in={reset} "
        f"({window.source.value})"
    )


def sim_metrics(windows: SimWindows) -> list[Mapping[str, Any]]:
    """The configured metrics of one provider's simulator window state."""
    return [m for m in windows.values() if m is not None]


def earliest_free(truth: Mapping[str, SimWindows], now: float) -> float:
    """When the first provider of `truth` can take a request again (now if one can already)."""
    soonest: float | None = None
    for windows in truth.values():
        empty = [m for m in sim_metrics(windows) if m["remaining"] <= 0]
        free_at = max((m["reset_at"] for m in empty), default=now)
        soonest = free_at if soonest is None else min(soonest, free_at)
    return now if soonest is None else soonest
