"""The statistics API: `/v1/stats/*` in the original 429chain's shapes, richer `/api/stats/*`.

Every handler validates its parameters first (a bad one is a 400 in OpenAI's error shape naming
the parameter) and then reads through `UsageStats`, off the event loop. Without a usage store
(`recordUsage: false`) every route answers a 409 saying so. Authentication is the application
middleware's business, not this module's.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web
from pydantic import BaseModel

from chain429.admin.api_route import ApiRoute
from chain429.admin.stats_params import (
    ParamError,
    check_bucket_count,
    parse_bounds,
    parse_choice,
    parse_cursor,
    parse_limit,
    parse_range,
    parse_status,
)
from chain429.admin.stats_query import RangeQuery, RequestLogQuery, SeriesQuery
from chain429.clock import Clock
from chain429.openai_errors import ErrorType
from chain429.responses import error_response, json_response
from chain429.state import STATE
from chain429.usage.requestlog import LogQuery
from chain429.usage.series import BucketSize, GroupBy, TimeRange
from chain429.usage.stats import UsageStats
from chain429.usage.store import UsageStore, UsageStoreError

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 500
DEFAULT_SPAN: Final = 86_400.0
DEFAULT_GROUP_BY: Final = GroupBy.PROVIDER
RECORDING_OFF: Final = (
    "usage recording is off (settings.recordUsage: false): there are no statistics"
)

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _guarded(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ParamError as exc:
            return error_response(
                400, str(exc), ErrorType.INVALID_REQUEST, "invalid_value", exc.param
            )
        except UsageStoreError:
            return error_response(
                503, "usage statistics are unavailable", ErrorType.SERVER, "unavailable"
            )

    return guarded


async def _recording_off(_request: web.Request) -> web.Response:
    return error_response(409, RECORDING_OFF, ErrorType.INVALID_REQUEST, "usage_recording_off")


def _group_by(request: web.Request) -> GroupBy:
    return parse_choice(request.query.get("groupBy"), GroupBy, "groupBy", DEFAULT_GROUP_BY)


def _range_json(when: TimeRange) -> dict[str, int]:
    return {"from": round(when.start * 1000), "to": round(when.end * 1000)}


class _StatsHandlers:
    def __init__(self, stats: UsageStats, clock: Clock) -> None:
        self._stats = stats
        self._clock = clock

    async def summary(self, _request: web.Request) -> web.Response:
        return json_response({"summary": await self._stats.summary()})

    async def providers(self, request: web.Request) -> web.Response:
        configured = _provider_ids(request)
        return json_response({"providers": await self._stats.providers(configured=configured)})

    async def provider(self, request: web.Request) -> web.Response:
        only = request.match_info["provider_id"]
        found = await self._stats.providers(only, configured=_provider_ids(request))
        if not found:
            return error_response(
                404, "No usage data for provider", ErrorType.NOT_FOUND, "not_found"
            )
        return json_response(found[0])

    async def chains(self, request: web.Request) -> web.Response:
        configured = _chain_names(request)
        return json_response({"chains": await self._stats.chains(configured=configured)})

    async def chain(self, request: web.Request) -> web.Response:
        only = request.match_info["chain_name"]
        found = await self._stats.chains(only, configured=_chain_names(request))
        if not found:
            return error_response(404, "No usage data for chain", ErrorType.NOT_FOUND, "not_found")
        return json_response(found[0])

    async def recent(self, request: web.Request) -> web.Response:
        limit = parse_limit(request.query.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
        return json_response({"requests": await self._stats.recent_requests(limit)})

    def _range(self, request: web.Request) -> TimeRange:
        return parse_range(request.query, self._clock.wall(), DEFAULT_SPAN)

    async def totals(self, request: web.Request) -> web.Response:
        group_by = _group_by(request)
        when = self._range(request)
        data = await self._stats.totals(group_by, when)
        return json_response({**_range_json(when), "groupBy": group_by.value, "data": data})

    async def series(self, request: web.Request) -> web.Response:
        group_by = _group_by(request)
        bucket = parse_choice(request.query.get("bucket"), BucketSize, "bucket", BucketSize.HOUR)
        when = self._range(request)
        check_bucket_count(when, bucket)
        data = await self._stats.series(group_by, when, bucket)
        body: dict[str, Any] = {
            **_range_json(when),
            "groupBy": group_by.value,
            "bucket": bucket.value,
            "bucketSeconds": bucket.seconds,
            "data": data,
        }
        return json_response(body)

    async def outcomes(self, request: web.Request) -> web.Response:
        group_by = _group_by(request)
        when = self._range(request)
        data = await self._stats.outcomes(group_by, when)
        return json_response({**_range_json(when), "groupBy": group_by.value, "data": data})

    async def request_log(self, request: web.Request) -> web.Response:
        q = request.query
        start, end = parse_bounds(q)
        query = LogQuery(
            limit=parse_limit(q.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT),
            before=parse_cursor(q.get("cursor")),
            chain=q.get("chain") or None,
            provider=q.get("provider") or None,
            status=parse_status(q.get("status")),
            start=start,
            end=end,
        )
        page = await self._stats.request_log(query)
        return json_response({"data": page.rows, "nextCursor": page.next_cursor})


def _provider_ids(request: web.Request) -> list[str]:
    return [provider.id for provider in request.app[STATE].config.providers]


def _chain_names(request: web.Request) -> list[str]:
    return [chain.name for chain in request.app[STATE].config.chains]


Method = Callable[[_StatsHandlers, web.Request], Awaitable[web.Response]]

ROUTES: Final[tuple[tuple[str, Method], ...]] = (
    ("/v1/stats/summary", _StatsHandlers.summary),
    ("/v1/stats/providers", _StatsHandlers.providers),
    ("/v1/stats/providers/{provider_id}", _StatsHandlers.provider),
    ("/v1/stats/chains", _StatsHandlers.chains),
    ("/v1/stats/chains/{chain_name}", _StatsHandlers.chain),
    ("/v1/stats/requests", _StatsHandlers.recent),
)

#: The management API's statistics: path, handler, summary, query parameters.
API_ROUTES: Final[tuple[tuple[str, Method, str, type[BaseModel]], ...]] = (
    ("/api/stats/totals", _StatsHandlers.totals, "Totals per group over a range", RangeQuery),
    ("/api/stats/series", _StatsHandlers.series, "Time series per group", SeriesQuery),
    ("/api/stats/outcomes", _StatsHandlers.outcomes, "Attempt outcomes per group", RangeQuery),
    ("/api/stats/requests", _StatsHandlers.request_log, "The request log", RequestLogQuery),
)


def stats_routes(store: UsageStore | None, *, clock: Clock) -> list[web.RouteDef]:
    """The original 429chain's statistics routes (`/v1/stats/*`), for `app.add_routes(...)`;
    `clock` sets "now" for default ranges. Without a store (recording off) every route says
    so."""
    if store is None:
        return [web.get(path, _recording_off, allow_head=False) for path, _ in ROUTES]
    h = _StatsHandlers(UsageStats(store), clock)
    return [
        web.get(path, _guarded(functools.partial(method, h)), allow_head=False)
        for path, method in ROUTES
    ]


def stats_api_routes(store: UsageStore | None, *, clock: Clock) -> list[ApiRoute]:
    """The management API's statistics (`/api/stats/*`); as `stats_routes` otherwise."""
    h = _StatsHandlers(UsageStats(store), clock) if store is not None else None
    return [
        ApiRoute(
            "GET",
            path,
            _recording_off if h is None else _guarded(functools.partial(method, h)),
            summary,
            "statistics",
            query=query,
            errors=(400, 409, 503),
        )
        for path, method, summary, query in API_ROUTES
    ]
