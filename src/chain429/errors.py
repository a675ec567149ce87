"""Every error 429chain raises derives from one root.

    Chain429Error
    ├── ConfigError                 the config file is missing, unreadable or invalid
    ├── StartupError                the proxy cannot start (port taken, host or dbPath unusable)
    ├── UpstreamError               an upstream call failed before a usable response arrived
    │   ├── UpstreamConnectError    could not connect (refused, DNS, TLS)
    │   ├── UpstreamTimeoutError    no response (or no first byte) within the timeout
    │   └── UpstreamProtocolError   the connection broke or the body was not what HTTP promised
    └── StreamIdleError             a committed stream sent nothing for the idle timeout

Errors from aiohttp and asyncio are translated into these in one place
(`upstream_http.map_client_errors`); nothing above the router sees them.
"""

from __future__ import annotations


class Chain429Error(Exception):
    """Root of every error raised by 429chain."""


class ConfigError(Chain429Error):
    """The configuration is invalid; `problems` lists each one as `path: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid config:\n" + "\n".join(f"  - {p}" for p in problems))


class StartupError(Chain429Error):
    """The proxy cannot start: one line naming the cause and the setting to change."""

    def __init__(self, cause: str, setting: str) -> None:
        self.cause = cause
        self.setting = setting
        super().__init__(f"{cause} ({setting})")


class UpstreamError(Chain429Error):
    """An upstream call failed before a usable response arrived."""


class UpstreamConnectError(UpstreamError):
    """The upstream could not be reached."""


class UpstreamTimeoutError(UpstreamError):
    """The upstream did not answer in time."""


class UpstreamProtocolError(UpstreamError):
    """The upstream connection broke or sent a malformed response."""


class StreamIdleError(Chain429Error):
    """A committed stream stayed silent for longer than the idle timeout."""
