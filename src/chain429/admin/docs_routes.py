"""`/api/openapi.json` and the interactive docs at `/api/docs` (Swagger UI).

Both are public: they describe the API and hold no secret (a key is typed into the docs page's
"Authorize" box and stays in the browser). Swagger UI's files come from the installed
`openapi-ui-bundles` package, served from here: the page loads nothing from another host, so
the docs work on a proxy with no internet access.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import orjson
from aiohttp import web
from openapi_ui_bundles.swagger_ui import static_path

from chain429.admin.api_route import ApiRoute
from chain429.admin.openapi import TITLE, openapi_document

DOCUMENT_PATH: Final = "/api/openapi.json"
DOCS_PATH: Final = "/api/docs"
#: The files of the Swagger UI distribution that the page loads.
ASSETS: Final = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-16x16.png", "favicon-32x32.png"}
)
ASSET_MAX_AGE_S: Final = 86_400

PAGE: Final = f"""\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{TITLE}</title>
  <link rel="stylesheet" href="{DOCS_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{DOCS_PATH}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="{DOCS_PATH}/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{DOCS_PATH}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{DOCUMENT_PATH}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null
    }});
  </script>
</body>
</html>
"""


def docs_routes(api: Sequence[ApiRoute], assets: Path = Path(static_path)) -> list[web.RouteDef]:
    """The document of `api` (built at its first request, then kept) and the docs page."""
    document: list[bytes] = []

    async def openapi(_request: web.Request) -> web.Response:
        if not document:
            document.append(orjson.dumps(openapi_document(api)))
        return web.Response(body=document[0], content_type="application/json")

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html", charset="utf-8")

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["asset"]
        if name not in ASSETS:
            raise web.HTTPNotFound()
        return web.FileResponse(
            assets / name, headers={"Cache-Control": f"public, max-age={ASSET_MAX_AGE_S}"}
        )

    return [
        web.get(DOCUMENT_PATH, openapi),
        web.get(DOCS_PATH, page),
        web.get(DOCS_PATH + "/{asset}", asset),
    ]
