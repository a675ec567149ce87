"""Run an app on a TCP port: the one way the CLI, the demo and the tests start a proxy."""

from __future__ import annotations

import errno
import socket
from typing import Final

from aiohttp import web

from chain429.errors import StartupError

#: How long aiohttp waits, once the app's drain is over, for handlers still running (none of
#: the proxy's own: the drain answered or cut those) before it cancels them. aiohttp may wait
#: this twice; the drain itself is bounded by `settings.shutdownGraceMs`.
CLOSE_TIMEOUT_S: Final = 0.25
#: How long the server waits on a client's bytes (`settings.clientTimeoutMs`, set by the app):
#: aiohttp's keep-alive timer closes a connection whose next request head is not whole this
#: long after the connection opened or after its previous answer (it fires only while no
#: request is being handled, and a head is no request until it is whole), so it bounds both a
#: head sent a byte at a time and an idle connection, at no cost of its own: aiohttp keeps
#: that one timer per connection anyway. The body's own deadline is the app's.
CLIENT_TIMEOUT_S: Final = web.AppKey("client_timeout_s", float)
#: For an app that does not say (`settings.clientTimeoutMs`' default).
DEFAULT_CLIENT_TIMEOUT_S: Final = 30.0
#: The most aiohttp reads (and drops) of a body left unread after its answer, so the client
#: sees the answer rather than a reset; aiohttp's own default, cut to the client timeout.
LINGER_S: Final = 10.0
_HOST = "settings.host / --host"
_PORT = "settings.port / --port"


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


async def start_server(
    app: web.Application, host: str, port: int, *, reuse_port: bool = False
) -> RunningServer:
    """Start `app`; port 0 picks a free one. Handlers are cancelled when their client leaves;
    a client gets `app[CLIENT_TIMEOUT_S]` to send each request head. With `reuse_port`, other
    processes may listen on the port too (`serve --workers`).

    Raises `StartupError` when `host` and `port` cannot be listened on.
    """
    client_timeout_s = app.get(CLIENT_TIMEOUT_S, DEFAULT_CLIENT_TIMEOUT_S)
    runner = web.AppRunner(
        app,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=CLOSE_TIMEOUT_S,
        keepalive_timeout=client_timeout_s,
        lingering_time=min(LINGER_S, client_timeout_s),
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True, reuse_port=reuse_port or None)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise listen_error(exc, host, port) from exc
    bound_port = int(runner.addresses[-1][1]) if port == 0 else port
    return RunningServer(runner, site, host, bound_port)


def listen_error(exc: OSError, host: str, port: int) -> StartupError:
    """Why listening on `host`:`port` failed, in words that name the setting to change."""
    if isinstance(exc, socket.gaierror):
        return StartupError(f"host '{host}' cannot be resolved: {exc.strerror}", _HOST)
    if exc.errno == errno.EADDRINUSE:
        return StartupError(f"port {port} on {host} is already in use", _PORT)
    if exc.errno == errno.EADDRNOTAVAIL:
        return StartupError(f"address {host} is not an address of this machine", _HOST)
    if exc.errno == errno.EACCES:
        return StartupError(
            f"port {port} on {host} needs privileges (as ports below 1024 do)", _PORT
        )
    reason = (exc.strerror or type(exc).__name__).lower()
    return StartupError(f"cannot listen on port {port} on {host}: {reason}", f"{_HOST}, {_PORT}")
