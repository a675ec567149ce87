"""JSON answers of the web layer (proxy and management API alike); errors are built in
`openai_errors`."""

from __future__ import annotations

import orjson
from aiohttp import web

JSON = "application/json"


def json_response(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type=JSON)
