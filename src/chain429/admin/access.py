"""Who may call what: every path is public, a proxy route or a management route, and each kind
asks for its key.

- Proxy routes (`/v1/...`, `/metrics` unless `metricsPublic`) take a client key
  (`settings.apiKeys`) or an admin key (`settings.adminKeys`).
- Management routes (`/api/...`, the original 429chain's `/v1/admin/...` and `/v1/test/...`)
  take an admin key. Without admin keys, their reads (GET, HEAD) take a client key and every
  other method is refused: no client key ever changes the configuration.
- Public routes (`/health`, the OpenAPI document and its docs page) take none, and neither does
  the dashboard: `/` and every path under it that is not one of the above (its pages, routed in
  the browser, and its files). The page holds no data; its API calls carry the admin key.

Keys are compared in constant time, every key every time. `AccessKeys` holds the keys of the
running configuration and follows a live change through `update(settings)`.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import Final

from aiohttp import web

from chain429.admin.cors import preflight_answer
from chain429.config.schema import Settings
from chain429.openai_errors import ErrorType
from chain429.responses import error_response, log_refusal


class RouteKind(Enum):
    PUBLIC = auto()
    PROXY = auto()
    METRICS = auto()
    MANAGEMENT = auto()


class Caller(Enum):
    """Who a request says it is: no key, a key nobody knows, a client, an admin."""

    ANONYMOUS = auto()
    UNKNOWN = auto()
    CLIENT = auto()
    ADMIN = auto()


PUBLIC_PATHS: Final = frozenset({"/health", "/api/openapi.json", "/api/docs"})
#: The docs page's assets: one plain file name below `/api/docs/`, nothing that climbs out.
_DOCS_ASSET: Final = re.compile(r"/api/docs/[A-Za-z0-9_-][A-Za-z0-9_.-]*")
MANAGEMENT_PREFIXES: Final = ("/api/", "/v1/admin/", "/v1/test/")
MANAGEMENT_PATHS: Final = frozenset({"/api", "/v1/admin", "/v1/test"})
READ_METHODS: Final = frozenset({"GET", "HEAD"})
#: The first path segments that are never the dashboard's, whatever follows them.
NOT_DASHBOARD: Final = frozenset({"api", "v1", "health", "metrics"})

WRITES_OFF: Final = (
    "Management writes are off: settings.adminKeys is empty, so the management API only "
    "reads, with client keys. To enable writes, add a key to settings.adminKeys (or run "
    "`429chain init`, which writes a config with a fresh admin key) and send it as "
    "'Authorization: Bearer <admin key>'."
)
NEEDS_ADMIN_KEY: Final = (
    "This route needs an admin key (settings.adminKeys); client keys (settings.apiKeys) may "
    "not call the management API."
)


def route_kind(path: str) -> RouteKind | None:
    """The kind of `path`; None for a path no rule covers (no route should be there)."""
    if path in PUBLIC_PATHS:
        return RouteKind.PUBLIC
    if path.startswith("/api/docs/") and _DOCS_ASSET.fullmatch(path) and ".." not in path:
        return RouteKind.PUBLIC
    if path.startswith(MANAGEMENT_PREFIXES) or path in MANAGEMENT_PATHS:
        return RouteKind.MANAGEMENT
    if path == "/metrics":
        return RouteKind.METRICS
    if path.startswith("/v1/") or path == "/v1":
        return RouteKind.PROXY
    if is_dashboard_path(path):
        return RouteKind.PUBLIC
    return None


def is_dashboard_path(path: str) -> bool:
    """`/` and the paths under it that no other rule claims, with no dot segment."""
    if not path.startswith("/"):
        return False
    segments = path[1:].split("/")
    return segments[0] not in NOT_DASHBOARD and "." not in segments and ".." not in segments


@dataclass(frozen=True, slots=True)
class _Grants:
    """One configuration's keys and origins, swapped whole so a request sees one set."""

    client: tuple[bytes, ...]
    admin: tuple[bytes, ...]
    origins: frozenset[str]
    metrics_public: bool


class AccessKeys:
    """The client and admin keys, CORS origins and `metricsPublic` of the running config."""

    def __init__(self, settings: Settings) -> None:
        self._grants = _grants(settings)

    def update(self, settings: Settings) -> None:
        """Follow a configuration change: the next request is judged by `settings`."""
        self._grants = _grants(settings)

    @property
    def writes_enabled(self) -> bool:
        return bool(self._grants.admin)

    def allows_origin(self, origin: str) -> bool:
        return origin in self._grants.origins

    def caller(self, authorization: str) -> Caller:
        """Who sends `authorization` (an `Authorization` header's value)."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Caller.ANONYMOUS
        candidate = token.strip().encode()
        grants = self._grants
        client = admin = False
        for key in grants.client:
            client |= hmac.compare_digest(candidate, key)
        for key in grants.admin:
            admin |= hmac.compare_digest(candidate, key)
        if admin:
            return Caller.ADMIN
        return Caller.CLIENT if client else Caller.UNKNOWN

    def admit(self, request: web.Request) -> web.Response | None:
        """None when the request may reach its route, else the answer to send instead: a
        CORS preflight's 204, or a 401 or 403. It runs for every request: one call."""
        if request.method == "OPTIONS":
            preflight = preflight_answer(request, self.allows_origin)
            if preflight is not None:
                return preflight
        kind = route_kind(request.path)
        if kind is None or kind is RouteKind.PUBLIC:
            return None
        if kind is RouteKind.METRICS and self._grants.metrics_public:
            return None
        caller = self.caller(request.headers.get("Authorization", ""))
        if caller is Caller.ANONYMOUS:
            return _missing_key(request)
        if caller is Caller.UNKNOWN:
            log_refusal(request, 401, "unknown API key")
            return error_response(
                401, "Incorrect API key provided.", ErrorType.AUTHENTICATION, "invalid_api_key"
            )
        if kind is not RouteKind.MANAGEMENT or caller is Caller.ADMIN:
            return None
        if self.writes_enabled:
            return _forbidden(request, NEEDS_ADMIN_KEY, "admin_key_required")
        if request.method in READ_METHODS:
            return None
        return _forbidden(request, WRITES_OFF, "management_writes_off")


def _grants(settings: Settings) -> _Grants:
    return _Grants(
        client=tuple(k.encode() for k in settings.api_keys),
        admin=tuple(k.encode() for k in settings.admin_keys),
        origins=frozenset(settings.cors_origins),
        metrics_public=settings.metrics_public,
    )


def _missing_key(request: web.Request) -> web.Response:
    log_refusal(request, 401, "missing API key")
    return error_response(
        401,
        "Missing API key: send 'Authorization: Bearer <key>' with a key from settings.apiKeys "
        "(or, for the management API, settings.adminKeys).",
        ErrorType.AUTHENTICATION,
        "missing_api_key",
    )


def _forbidden(request: web.Request, message: str, code: str) -> web.Response:
    log_refusal(request, 403, code)
    return error_response(403, message, ErrorType.PERMISSION, code)


ACCESS_KEYS = web.AppKey("access_keys", AccessKeys)
