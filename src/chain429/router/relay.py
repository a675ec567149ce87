"""After the commit point: relay a stream to the client, and end it loudly if it breaks.

A committed stream belongs to the client. If the upstream fails, goes silent for the idle
timeout, or stops before a finish reason, the client gets an OpenAI-style `error` event (so SDKs
raise) instead of a quietly truncated 200, and the entry is charged a mid-stream failure. A bug
of our own on the way ends the stream with an `internal_error` event before it goes up.

Whole events go on as the upstream sent them, each read's in one write; only an event that may
need a rewrite (usage a client did not ask for, reasoning to normalise, an error, the end) or
that is framed otherwise than clients get it is parsed. A half event never goes out.
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
from chain429.router.sse import DONE, END, event_data

_DONE_EVENT = b"data: [DONE]\n\n"
#: What may make an event need more than passing on (besides usage that is not null).
_LOOK_FOR = (DONE, b'"error"')
_LOOK_FOR_REASONING = (*_LOOK_FOR, b'"reasoning')
_NULL_USAGE = (b'"usage":null', b'"usage": null')
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
        "_look_for",
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
        self._look_for = _LOOK_FOR_REASONING if normalize else _LOOK_FOR
        self._wants_usage = wants_usage
        self._idle_s = idle_s
        self._read_s = plan.stream_timeouts.read_s
        self._progress = _Progress()

    async def run(self, commit: Commit, channel: ClientChannel) -> AttemptResult:
        progress = self._progress
        progress.usage = commit.usage
        clean = False
        try:
            if first := self._rewritten(commit.events) + self._passed(commit.rest):
                await channel.write(first)
            if commit.chunks is not None and not (progress.done or progress.failed):
                while (chunk := await self._next(commit)) is not None:
                    if passed := self._passed(commit.parser.whole(chunk)):
                        await channel.write(passed)
                    if progress.done or progress.failed:
                        break
                else:
                    if last := self._rewritten(commit.parser.close()):
                        await channel.write(last)
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

    def _passed(self, block: bytes) -> bytes:
        """Whole upstream events (LF line endings) as the client gets them: plain events as
        they came, in one piece; those that may need a rewrite (`_first_look`) parsed and
        rewritten."""
        if block.find(b"\n") == len(block) - 2:  # one event of one line: most reads
            return self._one(block)
        if not block:
            return b""
        if self._as_it_came(block):
            if has_finish_reason(block):
                self._progress.finish_seen = True
            return block
        parts: list[bytes] = []
        progress = self._progress
        start = 0
        while start < len(block) and not (progress.done or progress.failed):
            found = self._first_look(block, start)
            if found < 0:
                parts.append(self._plain(block[start:]))
                break
            event_start = block.rfind(END, start, found)
            event_start = start if event_start < 0 else event_start + len(END)
            event_end = block.find(END, found) + len(END)
            parts.append(self._plain(block[start:event_start]))
            parts.append(self._rewritten(event_data(block[event_start:event_end])))
            start = event_end
        return b"".join(parts)

    def _one(self, event: bytes) -> bytes:
        """One event of one line, as it came when it is a `data: ` line with nothing to
        rewrite. Searched with `find`: `in` costs about 1,200 instructions more a test (see
        `events`), and this runs once per read of most streams."""
        if (
            event.startswith(b"data: ")
            and event != _DONE_EVENT
            and event.find(b'"error"') < 0
            and not carries_usage(event)
            and not (self._normalize and event.find(b'"reasoning') >= 0)
        ):
            if has_finish_reason(event):
                self._progress.finish_seen = True
            return event
        return self._rewritten(event_data(event))

    def _as_it_came(self, block: bytes) -> bool:
        """Whether every event of `block` goes to the client as it came: no sign of anything
        to rewrite, and one `data: ` line each. Decided by a few byte searches and counts,
        without looking at each event; the searches first, as they fail more often."""
        return (
            block.find(DONE) < 0
            and block.find(b'"error"') < 0
            and not (self._normalize and block.find(b'"reasoning') >= 0)
            and block.count(b'"usage"')
            == block.count(b'"usage":null') + block.count(b'"usage": null')
            and _one_data_line_each(block)
        )

    def _first_look(self, block: bytes, start: int) -> int:
        """Where in `block` (from `start`) the first sign of an event that may need a rewrite
        is: the end, an error, usage that is not null, reasoning when normalising; -1 if none."""
        found = [at for mark in self._look_for if (at := block.find(mark, start)) >= 0]
        usage = block.find(b'"usage"', start)
        while usage >= 0 and block.startswith(_NULL_USAGE, usage):
            usage = block.find(b'"usage"', usage + len(b'"usage"'))
        if usage >= 0:
            found.append(usage)
        return min(found, default=-1)

    def _plain(self, block: bytes) -> bytes:
        """Events with nothing to rewrite: as they came when each is one `data: ` line (as
        clients get them), else re-framed (comments and other fields go, as before)."""
        if not block:
            return b""
        if not _one_data_line_each(block):
            return self._rewritten(event_data(block))
        if has_finish_reason(block):
            self._progress.finish_seen = True
        return block

    def _rewritten(self, events: list[bytes]) -> bytes:
        """Event payloads framed for the client, up to the end or an error."""
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
        return b"".join(parts)

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


def _one_data_line_each(block: bytes) -> bool:
    """Whether `block` (whole events, LF line endings) is events of one `data: ` line each: it
    starts with `data: `, each event ends with the only other line break it holds, and each
    event after the first starts with `data: `."""
    events = block.count(END)
    return (
        events > 0
        and block.startswith(b"data: ")
        and block.count(b"\n") == 2 * events
        and block.count(b"\n\ndata: ") == events - 1
    )


def _frame(data: bytes) -> bytes:
    """One SSE event; a payload that spans lines (multi-line upstream data that is not JSON)
    gets a `data:` field per line, so the client joins it back as it was."""
    if b"\n" in data:
        data = data.replace(b"\n", b"\ndata: ")
    return b"data: " + data + b"\n\n"
