"""A bare aiohttp relay: the floor 429chain's overhead is measured against.

An aiohttp server and one aiohttp ClientSession on uvloop, nothing else (no auth, limits,
records, logging or GC tuning): each POST's body is sent to the upstream at the same path, and
the answer comes back with its status and content type, JSON read whole, SSE streamed chunk by
chunk as it arrives. `GET /health` answers 200. Run as
`python bench/relay.py --port N --upstream http://127.0.0.1:M`.
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
import uvloop
from aiohttp import web

UPSTREAM = web.AppKey("upstream", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)


async def relay(request: web.Request) -> web.StreamResponse:
    headers = {"Content-Type": request.content_type, "Authorization": "Bearer relay"}
    body = await request.read()
    url = request.app[UPSTREAM] + request.path
    async with request.app[SESSION].post(url, data=body, headers=headers) as upstream:
        kind = upstream.headers.get("Content-Type", "application/json")
        if not kind.startswith("text/event-stream"):
            answer = await upstream.read()
            return web.Response(status=upstream.status, body=answer, content_type=kind)
        response = web.StreamResponse(status=upstream.status, headers={"Content-Type": kind})
        await response.prepare(request)
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
        await response.write_eof()
        return response


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def main(port: int, upstream: str) -> None:
    connector = aiohttp.TCPConnector(limit=1024, keepalive_timeout=60)
    async with aiohttp.ClientSession(connector=connector) as session:
        app = web.Application()
        app[UPSTREAM], app[SESSION] = upstream.rstrip("/"), session
        app.router.add_post("/{tail:.*}", relay)
        app.router.add_get("/health", health)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()  # until the process is stopped


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:8080")
    args = parser.parse_args()
    uvloop.run(main(args.port, args.upstream))
