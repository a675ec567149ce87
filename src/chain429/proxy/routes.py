"""Handlers of the OpenAI surface: completions, models, health."""

from __future__ import annotations

import os
import time

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from chain429 import __version__
from chain429.config.schema import Config
from chain429.openai_errors import ErrorType
from chain429.proxy.channel import AiohttpChannel
from chain429.proxy.parse import BadRequest, parse_request
from chain429.responses import error_response, json_response, log_refusal
from chain429.router.request import Endpoint
from chain429.state import STATE


def proxy_routes() -> list[web.RouteDef]:
    return [
        web.post("/v1/chat/completions", completion_handler(Endpoint.CHAT)),
        web.post("/v1/completions", completion_handler(Endpoint.COMPLETIONS)),
        web.get("/v1/models", models),
        web.get("/v1/models/{model_id:.+}", model),
        web.get("/health", health),
    ]


def completion_handler(endpoint: Endpoint) -> Handler:
    """The handler of `endpoint`'s route: one per endpoint, so a request is one call."""

    async def complete(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        state = request.app[STATE]
        try:
            parsed = parse_request(
                raw,
                endpoint,
                now=state.clock.wall(),
                require_model=state.config.settings.strict_models,
            )
        except BadRequest as exc:
            log_refusal(request, 400, exc.message)
            return error_response(400, exc.message, ErrorType.INVALID_REQUEST, None, exc.param)
        channel = AiohttpChannel(request, state.client_timeout_s)
        await state.waterfall.serve(parsed, channel)
        assert channel.response is not None
        return channel.response

    return complete


async def models(request: web.Request) -> web.Response:
    return web.Response(body=request.app[STATE].models_body, content_type="application/json")


async def model(request: web.Request) -> web.Response:
    """One model of the list (the SDK's `models.retrieve`); ids may hold slashes."""
    state = request.app[STATE]
    model_id = request.match_info["model_id"]
    for found in model_objects(state.config, int(state.started_at)):
        if found["id"] == model_id:
            return json_response(found)
    message = f"The model '{model_id}' does not exist: it is neither a chain nor a chain entry."
    return error_response(404, message, ErrorType.INVALID_REQUEST, "model_not_found", "model")


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    config = state.config
    body = {
        "status": "ok",
        "version": __version__,
        "uptimeSeconds": round(time.time() - state.started_at, 3),
        "providers": len(config.providers),
        "chains": len(config.chains),
        "defaultChain": config.settings.default_chain,
        "stateStore": state.state_store_status(),
        "pid": os.getpid(),
    }
    return json_response(body)


def models_body(config: Config, created: int) -> bytes:
    return orjson.dumps({"object": "list", "data": model_objects(config, created)})


def model_objects(config: Config, created: int) -> list[dict[str, object]]:
    """Chain names first, then every entry as `provider/model` (addressable directly)."""
    data: list[dict[str, object]] = [
        {"id": c.name, "object": "model", "created": created, "owned_by": "429chain"}
        for c in config.chains
    ]
    seen: set[str] = set()
    for chain in config.chains:
        for entry in chain.entries:
            model_id = f"{entry.provider}/{entry.model}"
            if model_id not in seen:
                seen.add(model_id)
                data.append(
                    {
                        "id": model_id,
                        "object": "model",
                        "created": created,
                        "owned_by": entry.provider,
                    }
                )
    return data
