"""The one place OpenAI-shaped errors are built: error bodies and stream error events. Pure: the
router builds them without the web layer, which wraps them in answers (`responses`).

OpenAI SDKs read `error.message`, `error.type`, `error.param` and `error.code`; the status code
picks the exception class (400 BadRequestError, 401 AuthenticationError, 403
PermissionDeniedError, 404 NotFoundError, 429 RateLimitError, 5xx InternalServerError).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import orjson

INTERNAL_ERROR_MESSAGE: Final = "Internal error in 429chain; see its log."


class ErrorType(StrEnum):
    INVALID_REQUEST = "invalid_request_error"
    AUTHENTICATION = "authentication_error"
    PERMISSION = "permission_error"
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
