"""`Simulator`: run several simulated providers on one loopback port, from Python or the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from aiohttp import web

from chain429.clock import Clock, SystemClock
from chain429.errors import ConfigError
from chain429.sim.config import SimConfig, SimProviderConfig, check_providers
from chain429.sim.provider import SimProvider
from chain429.sim.server import create_sim_app


class Simulator:
    """Simulated providers served by one aiohttp server.

    ```python
    sim = Simulator([SimProviderConfig(name="groqsim", dialect="groq", requests_per_window=5)])
    await sim.start()                       # 127.0.0.1, a free port
    sim.base_url("groqsim")                 # "http://127.0.0.1:PORT/groqsim/v1"
    await sim.stop()
    ```
    """

    def __init__(
        self, providers: Iterable[SimProviderConfig], *, clock: Clock | None = None
    ) -> None:
        configs = tuple(providers)
        if not configs:
            raise ConfigError(["the simulator needs at least one provider"])
        try:
            check_providers(configs)
        except ValueError as exc:
            raise ConfigError([str(exc)]) from exc
        self._clock = clock or SystemClock()
        self._providers = {c.name: SimProvider(c, self._clock) for c in configs}
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._host = ""
        self._port = 0

    @classmethod
    def from_config(cls, config: SimConfig, *, clock: Clock | None = None) -> Simulator:
        return cls(config.providers, clock=clock)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (port 0 picks a free one)."""
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        app = create_sim_app(
            list(self._providers.values()), self._closing, lambda: self.open_connections
        )
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._closing.clear()
        self._host = host
        self._port = _bound_port(runner)

    async def stop(self) -> None:
        """Release hung requests, close every connection and stop listening."""
        if self._runner is None:
            return
        self._closing.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._providers)

    @property
    def port(self) -> int:
        self._require_started()
        return self._port

    @property
    def open_connections(self) -> int:
        """The TCP connections open to the simulator now (idle keep-alive ones included): 0
        once every client has closed its connections."""
        runner = self._runner
        server = runner.server if runner is not None else None
        if server is None:
            return 0
        return sum(1 for handler in server.connections if handler.transport is not None)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`, the server root."""
        self._require_started()
        return f"http://{self._host}:{self._port}"

    def base_url(self, name: str) -> str:
        """The OpenAI base URL of provider `name`, e.g. `http://127.0.0.1:PORT/groqsim/v1`."""
        return f"{self.url}{self.provider(name).config.path_prefix}/v1"

    def provider(self, name: str) -> SimProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise KeyError(f"no simulated provider named {name!r}") from None

    def config(self, name: str) -> SimProviderConfig:
        return self.provider(name).config

    def stats(self, name: str) -> dict[str, Any]:
        return self.provider(name).stats()

    def last_request(self, name: str) -> dict[str, Any] | None:
        return self.provider(name).last_request()

    def configure(self, name: str, changes: Mapping[str, Any]) -> SimProviderConfig:
        """Same as `POST /_control`; raises `ConfigError` for an invalid change."""
        return self.provider(name).configure(changes)

    def reset(self, name: str) -> None:
        """Forget counters, last request and window usage of `name`."""
        self.provider(name).configure({"reset": True})

    def _require_started(self) -> None:
        if self._runner is None:
            raise RuntimeError("simulator not started")


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    raise RuntimeError("the simulator is not listening on a TCP port")
