"""One attempt at one chain entry, up to the point where the client is committed to it.

A plain call ends with the whole body; a stream ends at its commit point (the first event that
carries content or a role/tool delta), before a byte has gone to the client. Anything that goes
wrong up to there is an `AttemptResult` with a fall-through outcome, and the waterfall moves on.

Upstream words enter 429chain here: an error body, a 200 carrying an error, an error event
before the commit point. They are made safe here, once (no secret, no URL, a short line), so
that a result's `reason` and `error` can go as they are to the client, the log and the database.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import orjson

from chain429.errors import UpstreamConnectError, UpstreamError, UpstreamTimeoutError
from chain429.limits.metric import LimitReport
from chain429.limits.state import Reservation
from chain429.limits.window import RESET_MARGIN_S
from chain429.outcome import Outcome
from chain429.providers.error_body import in_band_error, parse_error_body
from chain429.providers.error_info import UpstreamErrorInfo
from chain429.redaction import Redactor
from chain429.router.classify import classify_status
from chain429.router.events import EventKind, classify_event, completion_to_events
from chain429.router.plan import ProviderPlan
from chain429.router.request import ClientRequest
from chain429.router.sse import SSEParser, events_in
from chain429.router.upstream import UpstreamClient, UpstreamResponse, read_and_release

_INCLUDE_USAGE = {"include_usage": True}
MAX_REASON_CHARS: Final = 200
_URL: Final = re.compile(r"https?://\S+")


@dataclass(slots=True)
class AttemptResult:
    """How an attempt ended, with what it taught about the entry's limits. `reason` and
    `error` are safe to show anyone (see `UpstreamText`). `answered_at` is the clock's time
    when the upstream's answer was read (None when none was): what it teaches dates from then."""

    outcome: Outcome
    status: int | None = None
    reason: str = ""
    retry_at: float | None = None
    error: UpstreamErrorInfo | None = None
    report: LimitReport | None = None
    body: bytes = b""
    document: dict[str, Any] | None = None
    usage: Mapping[str, Any] | None = None
    answered_at: float | None = None


@dataclass(slots=True)
class Commit:
    """A stream that reached its commit point: the events so far (their data), the whole
    events read after them but not looked at (`rest`, as they came), and the rest to come."""

    response: UpstreamResponse
    chunks: AsyncIterator[bytes] | None
    parser: SSEParser
    events: list[bytes]
    report: LimitReport | None
    usage: Mapping[str, Any] | None = None
    rest: bytes = b""


class UpstreamText:
    """Makes an upstream's words fit for a client, a log or the database: no secrets (see
    `Redactor`), no URLs, at most `MAX_REASON_CHARS` characters."""

    __slots__ = ("_redact",)

    def __init__(self, redactor: Redactor) -> None:
        self._redact = redactor.redact

    def text(self, text: str) -> str:
        if not text:
            return text
        cleaned = self._redact(text)
        if "://" in cleaned:
            cleaned = _URL.sub("[url]", cleaned)
        return clipped(cleaned)

    def error(self, info: UpstreamErrorInfo) -> UpstreamErrorInfo:
        """`info` with its upstream-given text (message, type, code) made safe."""
        text = self.text
        return replace(
            info,
            message=text(info.message),
            type=info.type and text(info.type),
            code=info.code and text(info.code),
        )


def clipped(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS] + "…"


class Attempter:
    """Makes the upstream call for one entry; stateless apart from its collaborators."""

    def __init__(
        self,
        upstream: UpstreamClient,
        redactor: Redactor,
        now: Callable[[], float] = time.time,
        wall: Callable[[], float] | None = None,
    ) -> None:
        self._upstream = upstream
        self._text = UpstreamText(redactor)
        self._now = now
        self._wall = wall or now

    async def call(
        self, plan: ProviderPlan, reservation: Reservation, request: ClientRequest
    ) -> AttemptResult:
        body = upstream_body(plan, reservation.model, request)
        url = plan.urls[request.endpoint]
        headers = plan.headers[reservation.key_index]
        try:
            async with asyncio.timeout(plan.timeout_s):
                response = await self._upstream.send(url, headers, body, plan.call_timeouts)
                if not 200 <= response.status < 300:
                    return self._failed(plan, response, await read_and_release(response))
                data = await _whole_answer(plan, response)
                if data is None:
                    return _too_large(plan, response.status)
        except (TimeoutError, UpstreamTimeoutError):
            return AttemptResult(Outcome.TIMEOUT, reason=f"no answer within {plan.timeout_s:g}s")
        except UpstreamError as exc:
            return _transport_failure(exc)
        return self._served_body(plan, response, data)

    async def open_stream(
        self, plan: ProviderPlan, reservation: Reservation, request: ClientRequest
    ) -> AttemptResult | Commit:
        body = upstream_body(plan, reservation.model, request)
        url = plan.urls[request.endpoint]
        headers = plan.headers[reservation.key_index]
        response: UpstreamResponse | None = None
        try:
            async with asyncio.timeout(plan.timeout_s):
                response = await self._upstream.send(url, headers, body, plan.stream_timeouts)
                if not 200 <= response.status < 300:
                    return self._failed(plan, response, await read_and_release(response))
                if response.content_type != "text/event-stream":
                    return await self._json_as_stream(plan, response, request)
                return await self._until_commit(plan, response)
        except BaseException as exc:
            if response is not None:
                response.close()
            if isinstance(exc, TimeoutError | UpstreamTimeoutError):
                return AttemptResult(
                    Outcome.TIMEOUT, reason=f"no content within {plan.timeout_s:g}s"
                )
            if isinstance(exc, UpstreamError):
                return _transport_failure(exc)
            raise

    async def _until_commit(
        self, plan: ProviderPlan, response: UpstreamResponse
    ) -> AttemptResult | Commit:
        parser = SSEParser(plan.max_answer_bytes)
        chunks = response.chunks()
        held: list[bytes] = []
        while True:
            chunk = await anext(chunks, None)
            block = parser.whole(chunk) if chunk is not None else parser.rest()
            for data, end in events_in(block):
                kind, obj = classify_event(data)
                if kind is EventKind.CONTENT:
                    held.append(data)
                    report = self._report(plan, response, None, self._now(), self._wall())
                    return Commit(response, chunks, parser, held, report, rest=block[end:])
                if kind is EventKind.ERROR:
                    response.close()
                    now, wall = self._now(), self._wall()
                    info = in_band_error(obj, wall) or parse_error_body(data, wall)
                    info = self._text.error(info)
                    return AttemptResult(
                        Outcome.IN_BAND_ERROR,
                        status=response.status,
                        reason=clipped(f"error event before any content: {info.message}"),
                        error=info,
                        answered_at=now,
                    )
                if kind is EventKind.GARBAGE:
                    response.close()
                    return AttemptResult(Outcome.BAD_RESPONSE, response.status, "unparseable event")
                if kind is EventKind.DONE:
                    response.close()
                    return AttemptResult(
                        Outcome.BAD_RESPONSE, response.status, "stream ended before any content"
                    )
                held.append(data)
            if chunk is None:
                response.close()
                return AttemptResult(
                    Outcome.BAD_RESPONSE, response.status, "stream ended before any content"
                )

    async def _json_as_stream(
        self, plan: ProviderPlan, response: UpstreamResponse, request: ClientRequest
    ) -> AttemptResult | Commit:
        data = await _whole_answer(plan, response)
        if data is None:
            return _too_large(plan, response.status)
        result = self._served_body(plan, response, data)
        if result.outcome is not Outcome.SERVED:
            return result
        assert result.document is not None
        events = completion_to_events(result.document, wants_usage=True)
        return Commit(response, None, SSEParser(), events, result.report, result.usage)

    def _served_body(
        self, plan: ProviderPlan, response: UpstreamResponse, data: bytes
    ) -> AttemptResult:
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            return AttemptResult(Outcome.BAD_RESPONSE, response.status, "response is not JSON")
        if not isinstance(obj, dict):
            return AttemptResult(Outcome.BAD_RESPONSE, response.status, "response is not an object")
        now, wall = self._now(), self._wall()
        info = in_band_error(obj, wall)
        if info is not None and not obj.get("choices"):
            info = self._text.error(info)
            return AttemptResult(
                Outcome.IN_BAND_ERROR,
                status=response.status,
                reason=clipped(f"error inside a {response.status} body: {info.message}"),
                error=info,
                answered_at=now,
            )
        if not isinstance(obj.get("choices"), list):
            return AttemptResult(Outcome.BAD_RESPONSE, response.status, "response has no choices")
        usage = obj.get("usage")
        return AttemptResult(
            Outcome.SERVED,
            status=response.status,
            report=self._report(plan, response, None, now, wall),
            body=data,
            document=obj,
            usage=usage if isinstance(usage, dict) else None,
            answered_at=now,
        )

    def _failed(self, plan: ProviderPlan, response: UpstreamResponse, body: bytes) -> AttemptResult:
        status = response.status
        outcome = classify_status(status)
        now, wall = self._now(), self._wall()
        info = parse_error_body(body, wall)
        report = self._report(plan, response, info, now, wall)
        info = self._text.error(info)
        return AttemptResult(
            outcome,
            status=status,
            reason=clipped(f"HTTP {status}: {info.message}") if info.message else f"HTTP {status}",
            retry_at=report.retry_at,
            error=info,
            report=report,
            answered_at=now,
        )

    def _report(
        self,
        plan: ProviderPlan,
        response: UpstreamResponse,
        error: UpstreamErrorInfo | None,
        now: float,
        wall: float,
    ) -> LimitReport:
        # A served answer's relative resets ("7.66s") count from when the provider took the
        # request, not from when the (possibly long) answer arrived: from the send, plus a
        # margin for the time the request took to reach it (early is a wasted call, late only
        # a moment of unused capacity). An error's `retry-after` counts from the error.
        # Headers and bodies state wall-clock times (an epoch reset, a date, a midnight): they
        # are read against the wall clock (`wall`, read with `now`), the error body's included,
        # and the whole report is then moved once onto the steady timeline the limits run on.
        to_steady = now - wall
        if 200 <= response.status < 300:
            wall += RESET_MARGIN_S - (time.monotonic() - response.sent_at)
        return plan.adapter.limit_report(response.headers, error, wall).shifted(to_steady)


def upstream_body(plan: ProviderPlan, model: str, request: ClientRequest) -> bytes:
    """The body `plan`'s provider is sent for `model`, serialised once per request for each
    adapter kind and model. A stream always asks for its usage (`stream_options`)."""
    key = (type(plan.adapter), model)
    body = request.upstream_bodies.get(key)
    if body is None:
        payload = plan.adapter.prepare(request.body, model)
        if request.stream:
            options = payload.get("stream_options")
            payload["stream_options"] = (
                {**options, **_INCLUDE_USAGE} if isinstance(options, dict) else _INCLUDE_USAGE
            )
        body = request.upstream_bodies[key] = orjson.dumps(payload)
    return body


async def _whole_answer(plan: ProviderPlan, response: UpstreamResponse) -> bytes | None:
    """A whole (non-streamed) answer, its connection given back to the pool; None when it is
    larger than `settings.maxResponseBytes` (the connection is closed then, as it is when the
    read fails)."""
    try:
        data = await response.read(plan.max_answer_bytes + 1)
    except BaseException:
        response.close()
        raise
    if len(data) > plan.max_answer_bytes:
        response.close()
        return None
    response.release()
    return data


def _too_large(plan: ProviderPlan, status: int) -> AttemptResult:
    """A whole answer larger than the proxy holds (`settings.maxResponseBytes`)."""
    reason = f"answer larger than {plan.max_answer_bytes} bytes (settings.maxResponseBytes)"
    return AttemptResult(Outcome.BAD_RESPONSE, status, reason)


def _transport_failure(exc: UpstreamError) -> AttemptResult:
    outcome = (
        Outcome.CONNECT_ERROR if isinstance(exc, UpstreamConnectError) else Outcome.BAD_RESPONSE
    )
    return AttemptResult(outcome, reason=str(exc))
