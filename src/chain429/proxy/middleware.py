"""The one middleware in front of every route: the gate (who may call what, decided by the
admin layer's `AccessKeys`), then OpenAI-shaped errors for whatever aiohttp or a handler raises.
One layer, since it runs for every request."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from chain429.openai_errors import INTERNAL_ERROR_MESSAGE, ErrorType
from chain429.responses import error_response, status_error

#: None lets the request through; an answer is sent instead of calling the route.
Gate = Callable[[web.Request], web.StreamResponse | None]

log = structlog.get_logger("chain429.proxy")


def front_door(gate: Gate) -> Middleware:
    """Ask `gate` about every request first; shape every error."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        refusal = gate(request)
        if refusal is not None:
            return refusal
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return status_error(exc, request)
        except Exception:  # a bug must still answer in OpenAI's shape; logged with its traceback
            log.exception("unhandled error", method=request.method, path=request.path)
            return error_response(500, INTERNAL_ERROR_MESSAGE, ErrorType.SERVER, "internal_error")

    return guard
