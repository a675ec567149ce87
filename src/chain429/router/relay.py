"""After the commit point: relay a stream to the client, and end it loudly if it breaks.

A committed stream belongs to the client. If the upstream fails, goes silent for the idle
timeout, or stops before a finish reason, the client gets an OpenAI-style `error` event (so SDKs
raise) instead of a quietly truncated 200, and the entry is charged a mid-stream failure. A bug
of our own on the way ends the stream with an `internal_error` event before it goes up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from chain429.errors import UpstreamError, UpstreamTimeoutError
from chain429.openai_errors import INTERNAL_ERROR_MESSAGE, ErrorType, error_event
from chain429.outcome import Outcome
from chain429.redaction import Redactor
from chain429.router.attempt import AttemptResult, Commit
from chain429.router.events import carries_usage, has_finish_reason, is_error_event
from chain429.router.plan import ProviderPlan
from chain429.router.request import ClientChannel, ClientStalled
from chain429.router.sse import DONE

_DONE_EVENT = b"data: [DONE]\n\n"
_INTERNAL_ERROR_EVENT = error_event(INTERNAL_ERROR_MESSAGE, "internal_error", ErrorType.SERVER)


@dataclass(slots=True)
class _Progress:
    done: bool = False
    failed: bool = False
    finish_seen: bool = False
    usage: Mapping[str, Any] | None = None


class StreamRelay:
    """Relays the events of one committed stream, rewriting only what must change."""

    __slots__ = (
        "_adapter",
        "_normalize",
        "_wants_usage",
        "_idle_s",
        "_read_s",
        "_progress",
        "_redactor",
    )

    def __init__(
        self,
        plan: ProviderPlan,
        normalize: bool,
        wants_usage: bool,
        idle_s: float,
        redactor: Redactor,
    ) -> None:
        self._adapter = plan.adapter
        self._redactor = redactor
        self._normalize = normalize
        self._wants_usage = wants_usage
        self._idle_s = idle_s
        self._read_s = plan.stream_timeouts.read_s
        self._progress = _Progress()

    async def run(self, commit: Commit, channel: ClientChannel) -> AttemptResult:
        progress = self._progress
        progress.usage = commit.usage
        clean = False
        try:
            await self._send(channel, commit.events)
            if commit.chunks is not None and not (progress.done or progress.failed):
                while (chunk := await self._next(commit)) is not None:
                    await self._send(channel, commit.parser.feed(chunk))
                    if progress.done or progress.failed:
                        break
                else:
                    await self._send(channel, commit.parser.close())
            clean = progress.done
            return await self._finish(channel)
        except UpstreamTimeoutError:
            return await self._broken(channel, f"upstream sent nothing for {self._idle_s:g}s")
        except UpstreamError as exc:
            return await self._broken(channel, f"upstream stream broke: {exc}")
        except ConnectionError as exc:
            return _client_gone(exc)
        except Exception:
            with contextlib.suppress(ConnectionError):
                await channel.write(_INTERNAL_ERROR_EVENT)
            raise
        finally:
            if clean:
                commit.response.release()
            else:
                commit.response.close()

    async def _next(self, commit: Commit) -> bytes | None:
        """The next upstream read. The client's read timeout already covers the idle timeout
        unless the idle timeout is the shorter one (set below requestTimeoutMs)."""
        assert commit.chunks is not None
        if self._read_s is not None and self._idle_s >= self._read_s:
            return await anext(commit.chunks, None)
        try:
            async with asyncio.timeout(self._idle_s):
                return await anext(commit.chunks, None)
        except TimeoutError:
            raise UpstreamTimeoutError("stream idle") from None

    async def _finish(self, channel: ClientChannel) -> AttemptResult:
        progress = self._progress
        if progress.failed:
            return AttemptResult(
                Outcome.MID_STREAM_FAILURE, 200, "error event mid-stream", usage=progress.usage
            )
        if not progress.done:
            if not progress.finish_seen:
                return await self._fail(channel, "upstream stream ended before it was complete")
            await channel.write(_DONE_EVENT)
        return AttemptResult(Outcome.SERVED, 200, usage=progress.usage)

    async def _broken(self, channel: ClientChannel, reason: str) -> AttemptResult:
        """The upstream failed or went silent. An answer whose finish reason has already been
        relayed is complete (some providers drop the connection instead of sending [DONE]);
        anything else ends with an error event."""
        if not self._progress.finish_seen:
            return await self._fail(channel, reason)
        try:
            return await self._finish(channel)
        except ConnectionError as exc:
            return _client_gone(exc)

    async def _fail(self, channel: ClientChannel, reason: str) -> AttemptResult:
        try:
            await channel.write(error_event(reason, "upstream_stream_failed"))
        except ConnectionError as exc:
            return _client_gone(exc)
        return AttemptResult(Outcome.MID_STREAM_FAILURE, 200, reason, usage=self._progress.usage)

    async def _send(self, channel: ClientChannel, events: list[bytes]) -> None:
        if not events:
            return
        parts: list[bytes] = []
        progress = self._progress
        for data in events:
            if data == DONE:
                progress.done = True
                parts.append(_DONE_EVENT)
                break
            if is_error_event(data):
                progress.failed = True
                parts.append(_frame(self._without_secrets(data)))
                break
            rewritten = self._rewrite(data)
            if rewritten is not None:
                parts.append(_frame(rewritten))
        if parts:
            await channel.write(parts[0] if len(parts) == 1 else b"".join(parts))

    def _without_secrets(self, error: bytes) -> bytes:
        """The upstream's error event (JSON, see `is_error_event`) minus any key it echoed."""
        return orjson.dumps(self._redactor.redact_value(orjson.loads(error)))

    def _rewrite(self, data: bytes) -> bytes | None:
        """The event as the client should see it; None drops it."""
        if has_finish_reason(data):
            self._progress.finish_seen = True
        usage_here = carries_usage(data)
        reasoning_here = self._normalize and b'"reasoning' in data
        if not (usage_here or reasoning_here or b"\n" in data):
            return data
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            return data
        if not isinstance(obj, dict):
            return data
        if usage_here and isinstance(obj.get("usage"), dict):
            self._progress.usage = obj["usage"]
            if not self._wants_usage:
                if not obj.get("choices"):
                    return None
                obj = {k: v for k, v in obj.items() if k != "usage"}
        if reasoning_here:
            obj = self._adapter.normalize_chunk(obj)
        return orjson.dumps(obj)


def _client_gone(exc: ConnectionError) -> AttemptResult:
    """The client left, or read nothing for the client timeout (`ClientStalled` says so)."""
    reason = str(exc) if isinstance(exc, ClientStalled) else "client closed the stream"
    return AttemptResult(Outcome.CLIENT_CLOSED, 200, reason)


def _frame(data: bytes) -> bytes:
    """One SSE event; a payload that spans lines (multi-line upstream data that is not JSON)
    gets a `data:` field per line, so the client joins it back as it was."""
    if b"\n" in data:
        data = data.replace(b"\n", b"\ndata: ")
    return b"data: " + data + b"\n\n"
