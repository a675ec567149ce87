"""OpenAI-shaped twins of the HTTP errors aiohttp raises itself, and the log line of every
request refused before it reached a chain."""

from __future__ import annotations

import structlog
from aiohttp import web

from chain429.openai_errors import ErrorType
from chain429.responses import error_response

log = structlog.get_logger("chain429.proxy")


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
