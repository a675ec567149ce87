"""The one place OpenAI-shaped errors are built: bodies, stream events and web answers, the
OpenAI-shaped twins of the HTTP errors aiohttp raises itself, and the log line of every request
refused before it reached a chain.

OpenAI SDKs read `error.message`, `error.type`, `error.param` and `error.code`; the status code
picks the exception class (400 BadRequestError, 401 AuthenticationError, 404 NotFoundError,
429 RateLimitError, 5xx InternalServerError).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import orjson
import structlog
from aiohttp import web

INTERNAL_ERROR_MESSAGE: Final = "Internal error in 429chain; see its log."

log = structlog.get_logger("chain429.proxy")


class ErrorType(StrEnum):
    INVALID_REQUEST = "invalid_request_error"
    AUTHENTICATION = "authentication_error"
    NOT_FOUND = "not_found_error"
    RATE_LIMIT = "rate_limit_error"
    UPSTREAM = "upstream_error"
    SERVER = "server_error"


def error_body(
    message: str,
    error_type: ErrorType,
    code: str | None = None,
    param: str | None = None,
) -> bytes:
    return orjson.dumps(
        {"error": {"message": message, "type": error_type.value, "param": param, "code": code}}
    )


def error_event(message: str, code: str, error_type: ErrorType = ErrorType.UPSTREAM) -> bytes:
    """An SSE event that ends a broken stream so that SDKs raise instead of stopping quietly."""
    return b"data: " + error_body(message, error_type, code) + b"\n\n"


def error_response(
    status: int,
    message: str,
    error_type: ErrorType,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An OpenAI-shaped error answer (proxy and management API alike)."""
    return web.Response(
        status=status,
        body=error_body(message, error_type, code, param),
        content_type="application/json",
        headers=headers,
    )


def log_refusal(request: web.Request, status: int, reason: str) -> None:
    """One info line for a client error (400, 401, 413, ...): why, never the body."""
    log.info(
        "request refused", status=status, reason=reason, method=request.method, path=request.path
    )


def status_error(exc: web.HTTPException, request: web.Request) -> web.Response:
    """The OpenAI-shaped twin of one of aiohttp's own HTTP errors (404, 405, 413, ...)."""
    status = exc.status
    code: str | None = None
    if status == 404:
        message, code = f"Unknown request URL: {request.method} {request.path}.", "unknown_url"
    elif status == 405:
        message = f"Method {request.method} is not allowed for {request.path}."
        code = "method_not_allowed"
    elif status == 413:
        message = "The request body is larger than this proxy accepts (settings.maxBodyBytes)."
        code = "request_too_large"
    else:
        message = exc.reason
    if status >= 500:
        return error_response(status, message, ErrorType.SERVER, code)
    log_refusal(request, status, message)
    return error_response(status, message, ErrorType.INVALID_REQUEST, code)
