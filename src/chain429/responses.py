"""The web layer's answers (proxy and management API alike): JSON, OpenAI-shaped errors around
the bodies `openai_errors` builds, the twins of the HTTP errors aiohttp raises itself, and the
log line of every request refused before it reached a chain."""

from __future__ import annotations

import orjson
import structlog
from aiohttp import web

from chain429.openai_errors import ErrorType, error_body

JSON = "application/json"

log = structlog.get_logger("chain429.proxy")


def json_response(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type=JSON)


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
    headers: dict[str, str] | None = None
    if status == 404:
        message, code = f"Unknown request URL: {request.method} {request.path}.", "unknown_url"
    elif status == 405:
        message = f"Method {request.method} is not allowed for {request.path}."
        code = "method_not_allowed"
        # RFC 9110: a 405 lists the methods the resource does allow.
        headers = {"Allow": exc.headers.get("Allow", "")}
    elif status == 413:
        message = "The request body is larger than this proxy accepts (settings.maxBodyBytes)."
        code = "request_too_large"
    else:
        message = exc.reason
    if status >= 500:
        return error_response(status, message, ErrorType.SERVER, code)
    log_refusal(request, status, message)
    return error_response(status, message, ErrorType.INVALID_REQUEST, code, headers=headers)
