"""Run an app on a TCP port: the one way the CLI, the demo and the tests start a proxy."""

from __future__ import annotations

from typing import Final

from aiohttp import web

#: How long aiohttp waits, once the app's drain is over, for handlers still running (none of
#: the proxy's own: the drain answered or cut those) before it cancels them. aiohttp may wait
#: this twice; the drain itself is bounded by `settings.shutdownGraceMs`.
CLOSE_TIMEOUT_S: Final = 0.25


class RunningServer:
    """A started aiohttp app; `url` is its base, `stop()` drains and closes it."""

    def __init__(self, runner: web.AppRunner, site: web.TCPSite, host: str, port: int) -> None:
        self._runner = runner
        self._site = site
        self.host = host
        self.port = port

    @property
    def app(self) -> web.Application:
        return self._runner.app

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        await self._runner.cleanup()


async def start_server(app: web.Application, host: str, port: int) -> RunningServer:
    """Start `app`; port 0 picks a free one. Handlers are cancelled when their client leaves."""
    runner = web.AppRunner(
        app,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=CLOSE_TIMEOUT_S,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    bound_port = int(runner.addresses[-1][1]) if port == 0 else port
    return RunningServer(runner, site, host, bound_port)
