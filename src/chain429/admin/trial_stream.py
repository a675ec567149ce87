"""The answer of a streamed test (`POST /api/test` with `stream: true`): server-sent events
written as the waterfall's stream comes in. `delta` events carry the text as it arrives, an
`error` event the error that broke the stream mid-way, and one `result` event ends it with
what the JSON answer would hold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web
from pydantic import BaseModel

from chain429.admin.trial_schema import PromptTestDelta
from chain429.event_hub import sse_frame

_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
#: Headers of the waterfall's answer that a test answer passes on.
PASSED_HEADERS: Final = frozenset(
    {"retry-after", "x-request-id", "x-429chain-attempts", "x-429chain-provider"}
)


class TrialStream:
    """A `capture.StreamListener` writing to the admin client; `response` is None until the
    waterfall commits to an entry (an answer that fails before is sent as JSON instead)."""

    __slots__ = ("_request", "response")

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self.response: web.StreamResponse | None = None

    async def start(self, headers: Mapping[str, str]) -> None:
        passed = {k: v for k, v in headers.items() if k.lower() in PASSED_HEADERS}
        response = web.StreamResponse(status=200, headers={**passed, **_HEADERS})
        response.enable_chunked_encoding()
        self.response = response
        await response.prepare(self._request)

    async def delta(self, text: str, *, reasoning: bool) -> None:
        await self._send("delta", PromptTestDelta(text=text, reasoning=reasoning))

    async def error(self, error: Mapping[str, Any]) -> None:
        await self._send("error", {"error": error})

    async def finish(self, result: BaseModel) -> web.StreamResponse:
        """Send the `result` event and end the stream."""
        assert self.response is not None
        await self._send("result", result)
        await self.response.write_eof()
        return self.response

    async def _send(self, event: str, data: BaseModel | Mapping[str, Any]) -> None:
        assert self.response is not None
        payload = (
            data.model_dump(mode="json", by_alias=True) if isinstance(data, BaseModel) else data
        )
        await self.response.write(sse_frame(event, payload))
