"""JSON answers of the web layer (proxy and management API alike), built in one place."""

from __future__ import annotations

import orjson
from aiohttp import web

from chain429.openai_errors import ErrorType, error_body

JSON = "application/json"


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
    """An OpenAI-shaped error answer."""
    return web.Response(
        status=status,
        body=error_body(message, error_type, code, param),
        content_type=JSON,
        headers=headers,
    )
