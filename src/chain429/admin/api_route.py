"""One management API route, described once: the aiohttp route and its OpenAPI operation both
come from it, so the document can never disagree with what the server does.

Every route under `/api` that has a body or a JSON answer worth a schema is declared as an
`ApiRoute`; each routes module exposes a function returning its list, `app.py` registers the
routes, and `admin.openapi` builds `/api/openapi.json` from the same list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """A route and what the OpenAPI document says of it.

    `path` is aiohttp's (`/api/providers/{id}`), which is OpenAPI's too. `body` validates the
    request's JSON body; `answer` is the success answer's schema (`status`). `errors` lists the
    error statuses the route may answer, each in the OpenAI error shape. `stream` marks an answer
    sent as server-sent events (`text/event-stream`). `query` models the query parameters.
    `etag` marks an answer that carries the configuration's version as its `ETag`; `if_match`
    a write that takes the version it was made against as `If-Match`."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None
    failure: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    stream: bool = False
    may_stream: bool = False
    description: str = ""
    etag: bool = False
    if_match: bool = False

    def route_def(self) -> web.RouteDef:
        """The aiohttp route. A GET also answers HEAD, except an event stream, whose handler
        would send its endless body to a HEAD too."""
        if self.method == "GET":
            return web.get(self.path, self.handler, allow_head=not self.stream)
        return web.route(self.method, self.path, self.handler)
