"""Read a management API request's JSON body into its pydantic model, or say what is wrong
with it: 400 for a body that is not JSON, 422 naming the field path of each problem."""

from __future__ import annotations

from typing import TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from chain429.admin.route_error import RouteError

M = TypeVar("M", bound=BaseModel)


async def read_body(request: web.Request, model: type[M], *, optional: bool = False) -> M:
    """The body as `model`; with `optional`, an empty body is `model()` (all defaults)."""
    raw = await request.read()
    if not raw.strip() and optional:
        return model()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RouteError(
            400, f"The request body is not valid JSON: {exc}.", "invalid_json"
        ) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _invalid(exc: ValidationError) -> RouteError:
    problems = [(_path(e["loc"]), e["msg"]) for e in exc.errors(include_url=False)]
    message = "; ".join(f"{path}: {msg}" if path else msg for path, msg in problems)
    return RouteError(
        422, f"Invalid request body: {message}.", "invalid_body", param=problems[0][0] or None
    )


def _path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path
