"""CORS, closed unless `settings.corsOrigins` lists origins: a browser page from a listed origin
may call the proxy and the management API; any other origin gets no CORS header at all.

A preflight (`OPTIONS` with `Access-Control-Request-Method`) from a listed origin is answered
here, before authentication (browsers send no key with it); the request that follows is judged
like any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

OriginCheck = Callable[[str], bool]

ALLOW_METHODS: Final = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS: Final = "Authorization, Content-Type, If-Match"
EXPOSE_HEADERS: Final = "ETag, Retry-After, X-Request-Id, X-429chain-Provider, X-429chain-Attempts"
MAX_AGE_S: Final = "600"


def preflight_answer(request: web.Request, allowed: OriginCheck) -> web.Response | None:
    """The 204 for a preflight from a listed origin; None for every other request."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    origin = request.headers.get("Origin")
    if origin is None or not allowed(origin):
        return None
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": MAX_AGE_S,
        },
    )


def cors_headers(
    allowed: OriginCheck,
) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An `on_response_prepare` signal that marks answers to listed origins readable by them."""

    async def mark(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if origin is None or not allowed(origin):
            return
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        if "origin" not in response.headers.get("Vary", "").lower():
            response.headers.add("Vary", "Origin")

    return mark
