"""Rate-limit status: `/v1/ratelimits` in the original 429chain's shape (chain entries),
`/api/ratelimits` with every metric per (provider, key label, model), entries reached as
`provider/model` included. Both only read the state."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from chain429.admin.api_route import ApiRoute
from chain429.admin.chain_outlook import chain_outlooks
from chain429.admin.limits_view import TrackerLimitsView, fleet_entry_views
from chain429.limits.status import EntryView, WindowView, direct_entry_views, entry_views
from chain429.responses import json_response
from chain429.state import STATE, AppState


def ratelimit_routes() -> list[web.RouteDef]:
    return [web.get("/v1/ratelimits", original_status)]


def ratelimit_api_routes() -> list[ApiRoute]:
    return [
        ApiRoute(
            "GET",
            "/api/ratelimits",
            detailed_status,
            "Every limit metric per (provider, key label, model), and the queues",
            "rate limits",
            description=(
                "`entries`: every metric per (provider, key label, model). `queue`: the queue "
                "settings and depth per chain. `stateStore`: whose state this is, as `/health` "
                "says it: `memory` (this process), `shared` (every replica's, through Redis) or "
                "`local` (Redis unreachable: this replica's own). `chains`: per configured "
                "chain, in configuration "
                "order, `name`, `isDefault`, `queued` (its queue depth), `next` (the "
                "`{provider, model}` entry a request would use now, or null when none can "
                "serve now) and `freeAt` (epoch ms: when the soonest entry frees up if none "
                "can serve now; null when one can, or when none will by itself)."
            ),
        )
    ]


async def original_status(request: web.Request) -> web.Response:
    state = request.app[STATE]
    now = state.clock.now()
    views, view = await fleet_entry_views(state, entry_views(state.config, state.tracker, now), now)
    rows = [_original_row(group, now) for group in _by_entry(views)]
    body = {
        "ratelimits": rows,
        "activeEntries": sum(1 for r in rows if r["status"] in _ACTIVE),
        "queue": _queue(state),
        "stateStore": view,
    }
    return json_response(body)


async def detailed_status(request: web.Request) -> web.Response:
    state = request.app[STATE]
    now = state.clock.now()
    in_chains = entry_views(state.config, state.tracker, now)
    local = in_chains + direct_entry_views(state.config, state.tracker, now)
    views, view = await fleet_entry_views(state, local, now)
    depths = TrackerLimitsView(state).queue_depths()
    body = {
        "generatedAt": _ms(now),
        "stateStore": view,
        "entries": [detailed_row(v) for v in views],
        "queue": _queue(state),
        "chains": chain_outlooks(state.config, views[: len(in_chains)], depths),
    }
    return json_response(body)


def _by_entry(views: list[EntryView]) -> list[list[EntryView]]:
    groups: dict[tuple[str, str], list[EntryView]] = {}
    for view in views:
        groups.setdefault((view.provider, view.model), []).append(view)
    return list(groups.values())


_RANK = {"available": 0, "tracking": 1, "failing": 2, "exhausted": 3}
_ACTIVE = frozenset({"available", "tracking"})


def _original_row(group: list[EntryView], now: float) -> dict[str, Any]:
    best = min(group, key=lambda v: _RANK[v.status])
    return {
        "provider": best.provider,
        "model": best.model,
        "status": best.status,
        "cooldownUntil": _ms(best.cooldown_until),
        "reason": best.reason,
        # Not in the original: requests out now (every replica's, when they share Redis).
        "inFlight": best.in_flight,
        "quota": _quota(best.windows, now),
    }


def _quota(windows: tuple[WindowView, ...], now: float) -> dict[str, Any] | None:
    if not windows:
        return None
    requests = _tightest([w for w in windows if w.kind == "requests"])
    tokens = _tightest([w for w in windows if w.kind == "tokens"])
    tightest = requests or tokens
    return {
        "remainingRequests": requests.remaining if requests else None,
        "remainingTokens": tokens.remaining if tokens else None,
        "resetRequestsMs": _until_ms(requests, now),
        "resetTokensMs": _until_ms(tokens, now),
        "lastUpdated": _ms(max(w.updated_at for w in windows)),
        # Not in the original: where the tightest figure came from (header, manual, learned...).
        "source": tightest.source if tightest else None,
    }


def _tightest(windows: list[WindowView]) -> WindowView | None:
    known = [w for w in windows if w.remaining is not None]
    return min(known, key=lambda w: (w.remaining or 0) - w.in_flight) if known else None


def _until_ms(window: WindowView | None, now: float) -> int | None:
    if window is None or window.reset_at is None:
        return None
    return max(0, round((window.reset_at - now) * 1000))


def detailed_row(view: EntryView) -> dict[str, Any]:
    return {
        "provider": view.provider,
        "keyLabel": view.key_label,
        "model": view.model,
        "status": view.status,
        "cooldownUntil": _ms(view.cooldown_until),
        "reason": view.reason,
        "disabled": view.disabled,
        "inFlight": view.in_flight,
        "metrics": [
            {
                "kind": w.kind,
                "window": w.window,
                "scope": w.scope,
                "limit": w.limit,
                "remaining": w.remaining,
                "inFlight": w.in_flight,
                "resetAt": _ms(w.reset_at),
                "source": w.source,
                "updatedAt": _ms(w.updated_at),
                "raw": dict(w.raw),
            }
            for w in view.windows
        ],
    }


def _queue(state: AppState) -> dict[str, Any]:
    depths = TrackerLimitsView(state).queue_depths()
    settings = state.config.settings
    return {
        "enabled": settings.queue_mode,
        "maxSize": settings.queue_max_size,
        "maxWaitMs": settings.queue_max_wait_ms,
        "depth": sum(depths.values()),
        "chains": depths,
    }


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)
