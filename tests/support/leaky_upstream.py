"""Fake-upstream behaviours that echo the key they were sent, the way careless providers do:
whole, masked, cut, in error bodies, headers, stream events and rate-limit headers (and the
`api-key` header's value, a secret a provider's `headers` may carry, in bodies and headers).

For the redaction tests: whatever 429chain does with these answers, no part of the key may
reach a log, the usage database or a response.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tests.support.upstream import Behaviour, chunk, completion, reply, sse

#: The header a provider's `headers` sends a secret in (as Azure's `api-key`).
SECRET_HEADER = "api-key"


def received_key(request: web.Request) -> tuple[str, str]:
    """The `Authorization` header the upstream got, and the key in it."""
    authorization = request.headers.get("Authorization", "")
    return authorization, authorization.removeprefix("Bearer ")


def echo_text(request: web.Request) -> str:
    authorization, key = received_key(request)
    header = request.headers.get(SECRET_HEADER)
    also = f" and '{SECRET_HEADER}: {header}' (ends ...{header[-9:]})" if header else ""
    return (
        f"Incorrect API key provided: {key}. You sent 'Authorization: {authorization}' "
        f"(masked {key[:8]}****{key[-4:]}, ends ...{key[-9:]}, cut {key[3:20]}){also}"
    )


def echo_headers(request: web.Request) -> dict[str, str]:
    authorization, key = received_key(request)
    return {
        "x-echo-authorization": authorization,
        "www-authenticate": f'Bearer realm="api", error="invalid_token", key="{key}"',
        "x-request-key": key[-12:],
        "x-echo-api-key": request.headers.get(SECRET_HEADER, ""),
    }


def echo_error(status: int, **extra_headers: str) -> Behaviour:
    """An OpenAI-shaped error whose message, code and param repeat the key."""

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        _, key = received_key(request)
        error = {
            "message": echo_text(request),
            "type": "invalid_request_error",
            "param": key,
            "code": f"bad_key_{key[-10:]}",
            "metadata": {"raw": echo_text(request)},
        }
        return web.json_response(
            {"error": error}, status=status, headers={**echo_headers(request), **extra_headers}
        )

    return behaviour


def echo_plain(status: int) -> Behaviour:
    """A plain-text (not JSON) error page quoting the key."""

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        return web.Response(
            status=status, text=f"<html>{echo_text(request)}</html>", headers=echo_headers(request)
        )

    return behaviour


def echo_bad_json() -> Behaviour:
    """A 200 whose body is not JSON and quotes the key."""

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        return web.Response(
            status=200, text=f"{{not json: {echo_text(request)}", content_type="application/json"
        )

    return behaviour


def echo_in_band() -> Behaviour:
    """A 200 carrying an error object (JSON), or a stream that starts and then sends one."""

    async def behaviour(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        error = {"error": {"message": echo_text(request), "code": 500}}
        if not body.get("stream"):
            return await reply(body=error)(request, body)
        events = [orjson.dumps(chunk({"role": "assistant", "content": ""})), orjson.dumps(error)]
        return await sse(events, headers=echo_headers(request))(request, body)

    return behaviour


def echo_in_limit_headers() -> Behaviour:
    """A healthy answer whose rate-limit headers (groq's names) hold the key where a reset
    time belongs, next to counts that parse."""

    async def behaviour(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        _, key = received_key(request)
        headers = {
            "x-ratelimit-limit-requests": "100",
            "x-ratelimit-remaining-requests": "99",
            "x-ratelimit-reset-requests": key,
            "x-ratelimit-limit-tokens": key,
            "x-ratelimit-remaining-tokens": "5000",
            "x-ratelimit-reset-tokens": f"1m{key}",
            "retry-after": key,
        }
        if body.get("stream"):
            return await sse(headers=headers)(request, body)
        return await reply(body=completion(), headers=headers)(request, body)

    return behaviour
