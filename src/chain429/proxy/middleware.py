"""Middlewares: client authentication, and OpenAI-shaped errors for whatever aiohttp raises."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from chain429.openai_errors import ErrorType
from chain429.proxy.errors import error_response, status_error

PUBLIC_PATHS = frozenset({"/health"})

log = structlog.get_logger("chain429.proxy")


def error_middleware() -> Middleware:
    @web.middleware
    async def shape_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return status_error(exc, request)
        except Exception:  # a bug must still answer in OpenAI's shape; logged with its traceback
            log.exception("unhandled error", method=request.method, path=request.path)
            return error_response(
                500, "Internal error in 429chain; see its log.", ErrorType.SERVER, "internal_error"
            )

    return shape_errors


def auth_middleware(api_keys: Iterable[str], protected_prefixes: tuple[str, ...]) -> Middleware:
    """Require `Authorization: Bearer <key>` on protected paths, compared in constant time."""
    keys = tuple(k.encode() for k in api_keys)

    def known(candidate: bytes) -> bool:
        found = False
        for key in keys:
            found |= hmac.compare_digest(candidate, key)
        return found

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path in PUBLIC_PATHS or not path.startswith(protected_prefixes):
            return await handler(request)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return error_response(
                401,
                "Missing API key: send 'Authorization: Bearer <key>' with a key from "
                "settings.apiKeys.",
                ErrorType.AUTHENTICATION,
                "missing_api_key",
            )
        if not known(token.strip().encode()):
            return error_response(
                401, "Incorrect API key provided.", ErrorType.AUTHENTICATION, "invalid_api_key"
            )
        return await handler(request)

    return authenticate
