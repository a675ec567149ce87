"""`GET /api/events`: the live events as server-sent events (see `event_hub`).

The stream opens with a `hello` event (server version, config version, the kinds chosen), then
sends each published event as it comes (`id:`, `event:`, one `data:` line of JSON), a `missed`
event when the subscriber fell behind and lost some, and a `: heartbeat` comment every
`heartbeat_s` (of the app's clock) when no event is waiting. It ends when the client goes away
(its subscription goes with it) and, cleanly, at shutdown. Authentication is the application
middleware's business.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chain429 import __version__
from chain429.admin.api_route import ApiRoute
from chain429.admin.stats_params import ParamError
from chain429.clock import Clock
from chain429.config.version import config_version
from chain429.event_hub import EventHub, EventKind, Subscription, sse_frame
from chain429.openai_errors import ErrorType
from chain429.responses import error_response
from chain429.state import STATE, AppState

HEARTBEAT_S: Final = 15.0
HEARTBEAT: Final = b": heartbeat\n\n"
_HEADERS: Final = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
_KIND_VALUES: Final = frozenset(kind.value for kind in EventKind)
_KIND_NAMES: Final = ", ".join(kind.value for kind in EventKind)


class EventsQuery(BaseModel):
    """The query of `GET /api/events`."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    kinds: str | None = Field(
        default=None,
        description=f"Comma-separated kinds to receive ({_KIND_NAMES}); all when absent.",
        examples=["request,limits"],
    )


def parse_kinds(value: str | None) -> frozenset[EventKind]:
    """The kinds `?kinds=` asks for; every kind when absent or empty. Raises `ParamError`
    for a name that is no kind."""
    names = [name.strip() for name in (value or "").split(",") if name.strip()]
    if not names:
        return frozenset(EventKind)
    unknown = [name for name in names if name not in _KIND_VALUES]
    if unknown:
        message = f"unknown event kind '{unknown[0]}'; expected some of {_KIND_NAMES}"
        raise ParamError("kinds", message)
    return frozenset(EventKind(name) for name in names)


class _Heartbeat:
    """Nudges a subscription every `interval_s` on the clock, until cancelled."""

    def __init__(self, clock: Clock, interval_s: float, nudge: Callable[[], None]) -> None:
        self._clock = clock
        self._interval_s = interval_s
        self._nudge = nudge
        self._timer = clock.call_at(clock.now() + interval_s, self._beat)

    def _beat(self) -> None:
        self._nudge()
        self._timer = self._clock.call_at(self._clock.now() + self._interval_s, self._beat)

    def cancel(self) -> None:
        self._timer.cancel()


def _hello(state: AppState, kinds: frozenset[EventKind]) -> bytes:
    return sse_frame(
        "hello",
        {
            "version": __version__,
            "configVersion": config_version(state.config),
            "kinds": [kind.value for kind in EventKind if kind in kinds],
            "lastId": state.events.last_id,
        },
    )


def _refusal(hub: EventHub) -> web.Response:
    if hub.closed:
        message, code = "The proxy is shutting down.", "shutdown"
    else:
        message, code = "Too many event streams are open; close one and retry.", "too_many"
    return error_response(503, message, ErrorType.SERVER, code)


async def _relay(
    request: web.Request, state: AppState, subscription: Subscription, heartbeat_s: float
) -> web.StreamResponse:
    """Write the subscription's frames until it ends (shutdown) or the client goes away (a
    write that fails, or aiohttp cancelling the handler)."""
    response = web.StreamResponse(headers=_HEADERS)
    await response.prepare(request)
    heartbeat = _Heartbeat(state.clock, heartbeat_s, subscription.nudge)
    try:
        await response.write(_hello(state, subscription.kinds))
        while (frames := await subscription.take()) is not None:
            await response.write(b"".join(frames) if frames else HEARTBEAT)
        await response.write_eof()
    except ConnectionResetError:
        return response
    finally:
        heartbeat.cancel()
    return response


def event_routes(*, heartbeat_s: float = HEARTBEAT_S) -> list[ApiRoute]:
    """`GET /api/events`, with a heartbeat comment every `heartbeat_s` of the app's clock."""

    async def stream_events(request: web.Request) -> web.StreamResponse:
        try:
            kinds = parse_kinds(request.query.get("kinds"))
        except ParamError as exc:
            return error_response(
                400, str(exc), ErrorType.INVALID_REQUEST, "invalid_value", exc.param
            )
        state = request.app[STATE]
        hub = state.events
        subscription = hub.subscribe(kinds)
        if subscription is None:
            return _refusal(hub)
        try:
            return await _relay(request, state, subscription, heartbeat_s)
        finally:
            hub.unsubscribe(subscription)

    return [
        ApiRoute(
            "GET",
            "/api/events",
            stream_events,
            summary="Live events: finished requests, limit changes, config changes",
            tag="events",
            query=EventsQuery,
            errors=(400, 503),
            stream=True,
            description=(
                "Server-sent events: `hello` first, then `request`, `limits` and `config` "
                "events as they happen, `missed` when the client fell behind, and a "
                f"heartbeat comment every {HEARTBEAT_S:g} s. See the README."
            ),
        )
    ]
