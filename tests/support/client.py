"""A plain HTTP client for the proxy, for what the OpenAI SDK hides (raw bodies, headers, SSE)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict

from chain429.router.sse import SSEParser
from chain429.server import RunningServer
from tests.support.proxy import CLIENT_KEY

MESSAGES = [{"role": "user", "content": "hi"}]


def chat_body(**fields: Any) -> dict[str, Any]:
    """A valid chat request for the default chain, with `fields` added or replaced."""
    return {"model": "default", "messages": MESSAGES, **fields}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        """The OpenAI-shaped error object of an error answer."""
        error = self.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        return error

    def events(self) -> list[bytes]:
        """The data payloads of an SSE answer."""
        parser = SSEParser()
        return parser.feed(self.body) + parser.close()

    def chunks(self) -> list[dict[str, Any]]:
        """The JSON events of an SSE answer (without the final [DONE])."""
        return [orjson.loads(e) for e in self.events() if e != b"[DONE]"]


async def send(
    session: aiohttp.ClientSession,
    server: RunningServer,
    path: str,
    body: Mapping[str, Any] | bytes | None = None,
    *,
    method: str = "POST",
    key: str | None = CLIENT_KEY,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """One request to the proxy, read whole."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        all_headers["Authorization"] = f"Bearer {key}"
    data = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
    async with session.request(
        method, f"{server.url}{path}", data=data, headers=all_headers
    ) as response:
        return Answer(response.status, CIMultiDict(response.headers), await response.read())


async def chat(session: aiohttp.ClientSession, server: RunningServer, **fields: Any) -> Answer:
    """POST a chat completion (`chat_body(**fields)`) to the proxy."""
    return await send(session, server, "/v1/chat/completions", chat_body(**fields))
