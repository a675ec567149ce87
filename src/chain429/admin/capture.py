"""`CapturingChannel`: the router's `ClientChannel` for a request the proxy sends itself (the
test route). It keeps the answer instead of sending it: a whole JSON reply, or a stream read
event by event, its text handed to a `StreamListener` as it arrives."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import orjson

from chain429.router.events import is_error_event
from chain429.router.sse import DONE, SSEParser

_REASONING_FIELDS = ("reasoning_content", "reasoning")


class StreamListener(Protocol):
    """Who hears a captured stream as it goes: its start, each piece of text, an error event.
    Each may raise `ConnectionError` when its own client has gone; the relay then stops."""

    async def start(self, headers: Mapping[str, str]) -> None:
        """The stream begins; `headers` are those the waterfall gave it."""

    async def delta(self, text: str, *, reasoning: bool) -> None: ...

    async def error(self, error: Mapping[str, Any]) -> None: ...


class CapturingChannel:
    """Keeps what the waterfall answered. `status`, `headers` and `body` are a whole reply's
    (a stream's status is 200, its body empty); `content` and `reasoning` the text a stream
    brought; `stream_error` the error object of an error event that ended it."""

    __slots__ = (
        "status",
        "headers",
        "body",
        "streamed",
        "content",
        "reasoning",
        "stream_error",
        "_listener",
        "_parser",
    )

    def __init__(self, listener: StreamListener | None = None) -> None:
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body = b""
        self.streamed = False
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.stream_error: Mapping[str, Any] | None = None
        self._listener = listener
        self._parser = SSEParser()

    @property
    def answered(self) -> int | None:
        return self.status

    async def reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.status, self.body, self.headers = status, body, dict(headers)

    async def start_stream(self, headers: Mapping[str, str]) -> None:
        self.status, self.headers, self.streamed = 200, dict(headers), True
        if self._listener is not None:
            await self._listener.start(headers)

    async def write(self, data: bytes) -> None:
        for event in self._parser.feed(data):
            await self._take(event)

    async def end_stream(self) -> None:
        return None

    def text(self) -> str | None:
        """The answer's text: its content, or for a model that only reasoned, its reasoning."""
        if self.streamed:
            return "".join(self.content) or "".join(self.reasoning) or None
        if self.status != 200:
            return None
        try:
            document = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None
        return message_text(document) if isinstance(document, dict) else None

    async def _take(self, event: bytes) -> None:
        if event == DONE:
            return
        if is_error_event(event):
            error = orjson.loads(event)["error"]
            self.stream_error = error if isinstance(error, dict) else {"message": str(error)}
            if self._listener is not None:
                await self._listener.error(self.stream_error)
            return
        try:
            chunk = orjson.loads(event)
        except orjson.JSONDecodeError:
            return
        for text, reasoning in _delta_texts(chunk):
            (self.reasoning if reasoning else self.content).append(text)
            if self._listener is not None:
                await self._listener.delta(text, reasoning=reasoning)


def message_text(document: Mapping[str, Any]) -> str | None:
    """The text of a chat completion's first choice: `content`, else the reasoning."""
    choices = document.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    if not isinstance(message, dict):
        text = choices[0].get("text")
        return text if isinstance(text, str) else None
    for field in ("content", *_REASONING_FIELDS):
        value = message.get(field)
        if isinstance(value, str) and value:
            return value
    return None


def _delta_texts(chunk: object) -> list[tuple[str, bool]]:
    """The pieces of text in one stream chunk, each with whether it is reasoning."""
    if not isinstance(chunk, dict):
        return []
    pieces: list[tuple[str, bool]] = []
    for choice in chunk.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            continue
        for field in _REASONING_FIELDS:
            value = delta.get(field)
            if isinstance(value, str) and value:
                pieces.append((value, True))
        content = delta.get("content")
        if isinstance(content, str) and content:
            pieces.append((content, False))
    return pieces
