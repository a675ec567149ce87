"""The dashboard (built from `ui/` into `chain429/web/`), served at `/`.

`index.html` is sent for `/` and for every page path below it (the app routes them in the
browser), and is never cached, so a new build is picked up at the next load. The files under
`/assets/` carry a hash of their content in their names, so they are cached for a year. Paths
whose first segment is the API's, the proxy's, `/health` or `/metrics` are never the
dashboard's: an unknown one stays a 404 (and a known one with another method a 405).

All of it is public (see `access.py`): the page holds no data, its API calls carry the admin key.
Without a build (a source checkout before `make setup`), `/` says how to make one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from aiohttp import web

from chain429.admin.access import NOT_DASHBOARD

WEB_ROOT: Final = Path(__file__).resolve().parent.parent / "web"
INDEX: Final = "index.html"
ASSETS: Final = "assets"
NO_CACHE: Final = {"Cache-Control": "no-cache"}
IMMUTABLE: Final = {"Cache-Control": "public, max-age=31536000, immutable"}
#: A file name the dashboard may serve: one plain segment, not hidden.
FILE_NAME: Final = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
#: Every path but those whose first segment is reserved (or `assets`, whose misses are 404s).
_PAGE_PATTERN: Final = "(?!(?:{})(?:/|$)).*".format("|".join(sorted({*NOT_DASHBOARD, ASSETS})))

NOT_BUILT: Final = """\
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>429chain</title></head>
<body>
  <h1>The 429chain dashboard is not built</h1>
  <p>This proxy runs from a source checkout without the dashboard's build. Run
  <code>make setup</code> in the checkout (it builds <code>ui/</code> into
  <code>src/chain429/web/</code>), then reload this page.</p>
  <p>The proxy itself works: the OpenAI API is at <code>/v1</code>, the management API at
  <code>/api</code> (docs at <a href="/api/docs">/api/docs</a>).</p>
</body>
</html>
"""


def dashboard_routes(root: Path = WEB_ROOT) -> list[web.RouteDef]:
    """`/`, `/assets/{name}` and the page paths, served from the build in `root`."""

    async def asset(request: web.Request) -> web.StreamResponse:
        path = _file_in(root / ASSETS, request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers=IMMUTABLE)

    async def page(request: web.Request) -> web.StreamResponse:
        if not (root / INDEX).is_file():
            return web.Response(
                status=503, text=NOT_BUILT, content_type="text/html", headers=NO_CACHE
            )
        path = _file_in(root, request.match_info.get("page", ""))
        return web.FileResponse(path or root / INDEX, headers=NO_CACHE)

    return [
        web.get("/", page),
        web.get(f"/{ASSETS}/{{name}}", asset),
        web.get(f"/{{page:{_PAGE_PATTERN}}}", page),
    ]


def _file_in(directory: Path, name: str) -> Path | None:
    """`directory / name` when `name` is a plain file name and that file exists, else None."""
    if not FILE_NAME.fullmatch(name):
        return None
    path = directory / name
    return path if path.is_file() else None
