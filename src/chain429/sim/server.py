"""The aiohttp shell of the simulator: routes, and carrying out each provider's `Decision`.

Routes per provider (prefix `/groqsim`, or empty for a root provider):
`POST {prefix}/v1/chat/completions`, `POST {prefix}/v1/completions`, `GET {prefix}/v1/models`,
`GET {prefix}/v1/key` (OpenRouter's key endpoint: limits and free-tier status),
`GET {prefix}/_stats`, `POST {prefix}/_control`, `GET {prefix}/_last_request`;
`GET /_stats` with every provider when there is no root provider; and `GET /_connections`: the
TCP connections open to the simulator besides the one asking (`{"open": n}`), so a test can
see that a client (the proxy) left none behind.

A client that goes away ends its request's handler at once (the server cancels it): a hung or
slow answer stops there, and the client is counted in `client_disconnects`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from aiohttp import web

from chain429.errors import ConfigError
from chain429.sim.provider import Action, Decision, SimProvider
from chain429.sim.replies import (
    GARBAGE_BODY,
    SSE_HEADERS,
    Endpoint,
    Reply,
    chunk_count,
    completion_body,
    sse_event,
    stream_events,
)

_JSON = "application/json"


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    out = {"content-type": _JSON}
    if headers:
        out.update(headers)
    return web.Response(body=orjson.dumps(payload), status=status, headers=out)


class ProviderRoutes:
    """The HTTP handlers of one simulated provider."""

    def __init__(self, provider: SimProvider, closing: asyncio.Event) -> None:
        self._provider = provider
        self._closing = closing

    def add_to(self, router: web.UrlDispatcher) -> None:
        prefix = self._provider.config.path_prefix
        router.add_post(f"{prefix}/v1/chat/completions", self.chat)
        router.add_post(f"{prefix}/v1/completions", self.completions)
        router.add_get(f"{prefix}/v1/models", self.models)
        router.add_get(f"{prefix}/v1/key", self.key_info)
        router.add_get(f"{prefix}/_stats", self.stats)
        router.add_post(f"{prefix}/_control", self.control)
        router.add_get(f"{prefix}/_last_request", self.last_request)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, Endpoint.CHAT)

    async def completions(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, Endpoint.COMPLETIONS)

    async def models(self, request: web.Request) -> web.Response:
        provider = self._provider
        provider.count_models_request()
        data = [
            {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": provider.name}
            for m in provider.config.models
        ]
        return json_response({"object": "list", "data": data}, headers=self._tag({}))

    async def key_info(self, request: web.Request) -> web.Response:
        status, body = self._provider.key_info(request.headers.get("authorization"))
        return json_response(body, status, self._tag({}))

    async def stats(self, request: web.Request) -> web.Response:
        return json_response(self._provider.stats())

    async def last_request(self, request: web.Request) -> web.Response:
        return json_response(self._provider.last_request())

    async def control(self, request: web.Request) -> web.Response:
        try:
            changes = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return json_response({"problems": ["the body must be a JSON object"]}, 400)
        if not isinstance(changes, dict):
            return json_response({"problems": ["the body must be a JSON object"]}, 400)
        try:
            config = self._provider.configure(changes)
        except ConfigError as exc:
            return json_response({"problems": exc.problems}, 400)
        return json_response(
            {
                "config": config.model_dump(mode="json", exclude={"api_key"}),
                "stats": self._provider.stats(),
            }
        )

    async def _complete(self, request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        provider = self._provider
        provider.record_request(endpoint.value, request.path, request.headers, body)
        decision = provider.decide(endpoint, body, request.headers.get("authorization"))
        try:
            return await self._carry_out(request, decision)
        except asyncio.CancelledError:
            if not self._closing.is_set():  # the client left; not the simulator stopping
                provider.count_client_disconnect()
            raise

    async def _carry_out(self, request: web.Request, decision: Decision) -> web.StreamResponse:
        config = self._provider.config
        if decision.action is Action.HANG:
            await self._closing.wait()
            return _drop(request)
        await _sleep_ms(config.latency_ms)
        headers = self._tag(decision.headers)
        action = decision.action
        if action is Action.ERROR:
            return json_response(decision.body, decision.status, headers)
        if action is Action.DROP:
            return _drop(request)
        if action is Action.GARBAGE:
            headers["content-type"] = _JSON
            return web.Response(body=GARBAGE_BODY, headers=headers)
        if action is Action.INBAND_ERROR:
            if decision.stream:
                return await self._stream_bytes(request, headers, sse_event(decision.body or {}))
            return json_response(decision.body, 200, headers)
        assert decision.reply is not None
        if decision.stream:
            return await self._stream(request, decision.reply, headers, decision.drop_after)
        chunks = chunk_count(decision.reply, config.words_per_chunk)
        await _sleep_ms(config.ttft_ms + config.inter_chunk_ms * (chunks - 1))
        return json_response(completion_body(decision.reply), 200, headers)

    async def _stream(
        self, request: web.Request, reply: Reply, headers: dict[str, str], drop_after: int | None
    ) -> web.StreamResponse:
        config = self._provider.config
        events: Iterable[bytes] = stream_events(reply, config.words_per_chunk)
        if drop_after is not None:
            events = itertools.islice(events, drop_after)
        if not config.ttft_ms and not config.inter_chunk_ms:
            response = await self._stream_bytes(request, headers, b"".join(events))
        else:
            response = _stream_response(headers)
            try:
                await response.prepare(request)
                await _sleep_ms(config.ttft_ms)
                for index, event in enumerate(events):
                    if index:
                        await _sleep_ms(config.inter_chunk_ms)
                    await response.write(event)
            except ConnectionResetError:  # the client left mid-stream: nobody to answer
                self._provider.count_client_disconnect()
                return response
        return response if drop_after is None else _drop(request, response)

    async def _stream_bytes(
        self, request: web.Request, headers: dict[str, str], data: bytes
    ) -> web.StreamResponse:
        response = _stream_response(headers)
        try:
            await response.prepare(request)
            await response.write(data)
        except ConnectionResetError:  # the client left before its answer: nobody to answer
            self._provider.count_client_disconnect()
        return response

    def _tag(self, headers: dict[str, str]) -> dict[str, str]:
        return {**headers, "x-sim-provider": self._provider.name}


def _stream_response(headers: dict[str, str]) -> web.StreamResponse:
    return web.StreamResponse(status=200, headers={**headers, **SSE_HEADERS})


async def _sleep_ms(ms: float) -> None:
    if ms > 0:
        await asyncio.sleep(ms / 1000)


def _drop(request: web.Request, response: web.StreamResponse | None = None) -> web.StreamResponse:
    """Cut the connection: the client sees a reset, never a complete response."""
    if request.transport is not None:
        request.transport.abort()
    return response if response is not None else web.Response()


def create_sim_app(
    providers: Sequence[SimProvider],
    closing: asyncio.Event,
    open_connections: Callable[[], int] = lambda: 0,
) -> web.Application:
    """The application serving `providers`; setting `closing` releases hung requests;
    `open_connections()` counts the TCP connections open to the server."""
    app = web.Application()
    for provider in providers:
        ProviderRoutes(provider, closing).add_to(app.router)

    async def connections(request: web.Request) -> web.Response:
        return json_response({"open": max(0, open_connections() - 1)})

    app.router.add_get("/_connections", connections)
    if all(p.config.path_prefix for p in providers):

        async def all_stats(request: web.Request) -> web.Response:
            return json_response({"providers": {p.name: p.stats() for p in providers}})

        app.router.add_get("/_stats", all_stats)
    return app
