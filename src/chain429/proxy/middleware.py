"""The one middleware in front of every route: the gate (who may call what, decided by the
admin layer's `AccessKeys`), the body's deadline, then OpenAI-shaped errors for whatever
aiohttp or a handler raises. One layer, since it runs for every request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from chain429.openai_errors import INTERNAL_ERROR_MESSAGE, ErrorType
from chain429.responses import error_response, log_refusal, status_error

#: None lets the request through; an answer is sent instead of calling the route.
Gate = Callable[[web.Request], web.StreamResponse | None]

log = structlog.get_logger("chain429.proxy")


def front_door(gate: Gate, body_timeout_s: float) -> Middleware:
    """Ask `gate` about every request first; give a body still arriving `body_timeout_s` to
    arrive whole (`settings.clientTimeoutMs`), else answer 408; shape every error."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        refusal = gate(request)
        if refusal is not None:
            return refusal
        try:
            # Most bodies came with their head: no deadline, no timer, for those.
            if not request.content.is_eof() and not await _body_in_time(request, body_timeout_s):
                return _too_slow(request, body_timeout_s)
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return status_error(exc, request)
        except Exception:  # a bug must still answer in OpenAI's shape; logged with its traceback
            log.exception("unhandled error", method=request.method, path=request.path)
            return error_response(500, INTERNAL_ERROR_MESSAGE, ErrorType.SERVER, "internal_error")

    return guard


async def _body_in_time(request: web.Request, timeout_s: float) -> bool:
    """Read the rest of the body within `timeout_s` (aiohttp keeps it: the route's own
    `read()` returns it at once). False when it did not come whole in time."""
    try:
        async with asyncio.timeout(timeout_s):
            await request.read()
    except TimeoutError:
        return False
    return True


def _too_slow(request: web.Request, timeout_s: float) -> web.Response:
    message = (
        f"The request body did not arrive within {timeout_s:g}s of its headers "
        "(settings.clientTimeoutMs)."
    )
    log_refusal(request, 408, message)
    response = error_response(408, message, ErrorType.INVALID_REQUEST, "request_timeout")
    response.force_close()  # the rest of the body may still come: the connection serves no more
    return response
