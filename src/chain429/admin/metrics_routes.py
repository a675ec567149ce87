"""`GET /metrics`: 429chain's own registry in the Prometheus text (or OpenMetrics) format."""

from __future__ import annotations

from aiohttp import web

from chain429.usage.metrics import UsageMetrics


def metrics_routes(metrics: UsageMetrics) -> list[web.RouteDef]:
    """Routes to add to the application; authentication is the app middleware's business."""

    async def scrape(request: web.Request) -> web.Response:
        body, content_type = metrics.exposition(request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})

    return [web.get("/metrics", scrape, allow_head=False)]
