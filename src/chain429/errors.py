"""Every error 429chain raises derives from one root. An error is defined next to the code
that raises it; the tree names its module when that is not this one.

    Chain429Error
    ├── ConfigError                               the config is missing, unreadable or invalid
    ├── config.document.NotFound                  no provider or chain of that name in the config
    ├── config.document.Conflict                  an edit would orphan a chain or the default chain
    │   └── config.document.ProviderInUse         a provider chains still use (names them)
    ├── config.editor.StaleVersion                a change against a version no longer running
    ├── config.save.ReadOnlyConfig                the config file cannot be written (or is none)
    │   └── config.editor.NoConfigFile            the proxy runs from a Config, not a file
    ├── config.save.ConfigWriteError              writing the config file failed; it is unchanged
    ├── StartupError                              the proxy cannot start (port, host, database)
    ├── UpstreamError                             an upstream call failed before an answer
    │   ├── UpstreamConnectError                  could not connect (refused, DNS, TLS)
    │   ├── UpstreamTimeoutError                  no answer (or first byte) within the timeout
    │   └── UpstreamProtocolError                 the connection broke or HTTP was malformed
    ├── proxy.parse.BadRequest                    a request body invalid on its face (a 400)
    ├── router.request.ClientStalled              a client read nothing of its answer in time
    ├── admin.stats_params.ParamError             a stats or events query parameter is invalid
    ├── admin.route_error.RouteError              a management API request refused (4xx)
    ├── admin.model_catalog.ModelsError           a provider's model list cannot be had
    ├── usage.store.UsageStoreError               the usage database cannot be opened or used
    │   └── usage.store._Refused                  a record's values refused (the batch retried)
    ├── usage.limit_state.CorruptLimitState       the saved limit state is not JSON
    ├── state_store.redis_link.LinkError          Redis refused or broke the state store's link
    └── usage.db_file.DatabaseFileError           dbPath cannot hold the usage database

Errors from aiohttp and asyncio are translated into these in one place
(`upstream_http.upstream_error`), SQLAlchemy's in another
(`usage.store.map_database_errors`): nothing above them sees a library's exception. Built-in
exceptions are raised only inside pydantic validators (pydantic reports them as problems of a
`ConfigError`) and for a call that breaks its contract (a bug, not a condition to handle).
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
