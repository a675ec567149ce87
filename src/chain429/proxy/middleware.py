"""The one middleware in front of every route: client authentication, then OpenAI-shaped
errors for whatever aiohttp or a handler raises. One layer, since it runs for every request."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from chain429.openai_errors import INTERNAL_ERROR_MESSAGE, ErrorType
from chain429.responses import error_response, log_refusal, status_error

PUBLIC_PATHS = frozenset({"/health"})

log = structlog.get_logger("chain429.proxy")


class ClientKeys:
    """The keys clients may send, compared in constant time (every key, every time)."""

    def __init__(self, api_keys: Iterable[str]) -> None:
        self._keys = tuple(k.encode() for k in api_keys)

    def refusal(self, request: web.Request) -> web.Response | None:
        """None when the request carries a known key, else the 401 to answer."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            log_refusal(request, 401, "missing API key")
            return error_response(
                401,
                "Missing API key: send 'Authorization: Bearer <key>' with a key from "
                "settings.apiKeys.",
                ErrorType.AUTHENTICATION,
                "missing_api_key",
            )
        candidate = token.strip().encode()
        found = False
        for key in self._keys:
            found |= hmac.compare_digest(candidate, key)
        if not found:
            log_refusal(request, 401, "unknown API key")
            return error_response(
                401, "Incorrect API key provided.", ErrorType.AUTHENTICATION, "invalid_api_key"
            )
        return None


def front_door(api_keys: Iterable[str], protected_prefixes: tuple[str, ...]) -> Middleware:
    """Require `Authorization: Bearer <key>` on protected paths; shape every error."""
    keys = ClientKeys(api_keys)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path not in PUBLIC_PATHS and path.startswith(protected_prefixes):
            refusal = keys.refusal(request)
            if refusal is not None:
                return refusal
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return status_error(exc, request)
        except Exception:  # a bug must still answer in OpenAI's shape; logged with its traceback
            log.exception("unhandled error", method=request.method, path=path)
            return error_response(500, INTERNAL_ERROR_MESSAGE, ErrorType.SERVER, "internal_error")

    return guard
