"""OpenAI-shaped twins of the HTTP errors aiohttp raises itself."""

from __future__ import annotations

from aiohttp import web

from chain429.openai_errors import ErrorType
from chain429.responses import error_response


def status_error(exc: web.HTTPException, request: web.Request) -> web.Response:
    """The OpenAI-shaped twin of one of aiohttp's own HTTP errors (404, 405, 413, ...)."""
    status = exc.status
    if status == 404:
        message = f"Unknown request URL: {request.method} {request.path}."
        return error_response(404, message, ErrorType.INVALID_REQUEST, "unknown_url")
    if status == 405:
        message = f"Method {request.method} is not allowed for {request.path}."
        return error_response(405, message, ErrorType.INVALID_REQUEST, "method_not_allowed")
    if status == 413:
        message = "The request body is larger than this proxy accepts (settings.maxBodyBytes)."
        return error_response(413, message, ErrorType.INVALID_REQUEST, "request_too_large")
    error_type = ErrorType.SERVER if status >= 500 else ErrorType.INVALID_REQUEST
    return error_response(status, exc.reason, error_type)
