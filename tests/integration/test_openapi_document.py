"""`/api/openapi.json` and `/api/docs` as served: a valid OpenAPI 3.1 document that lists every
management route the app registers, and interactive docs whose every file the proxy serves
itself (no other host: the proxy may run offline). Both are public."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from chain429.admin.access import RouteKind, route_kind
from chain429.admin.api_models import ConfigView
from chain429.admin.openapi import REF_TEMPLATE
from tests.support.client import send
from tests.support.proxy import make_config

ADMIN_KEY = "adm-openapi-admin-key-0001"
PARAMETER = re.compile(r"\{([^}:]+)(:[^}]*)?\}")


@pytest.fixture
async def server(proxy_factory):
    config = make_config([("a", "http://127.0.0.1:9/v1")], settings={"adminKeys": [ADMIN_KEY]})
    return await proxy_factory(config)


async def document_of(http, server) -> dict:
    answer = await send(http, server, "/api/openapi.json", method="GET", key=None)
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("application/json")
    return answer.json()


async def test_the_document_validates_as_openapi_3_1(server, http) -> None:
    document = await document_of(http, server)
    assert document["openapi"].startswith("3.1")
    OpenAPIV31SpecValidator(document).validate()


async def test_the_document_lists_every_management_route_the_app_registers(server, http) -> None:
    document = await document_of(http, server)
    documented = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    registered = {
        (route.method, PARAMETER.sub(r"{\1}", route.resource.canonical))
        for route in server.app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and route_kind(PARAMETER.sub("sample", route.resource.canonical)) is RouteKind.MANAGEMENT
    }
    assert registered, "the walk found routes"
    assert registered == documented
    assert ("GET", "/api/providers/{id}") in documented


async def test_the_schemas_are_the_models_own(server, http) -> None:
    document = await document_of(http, server)
    schemas = document["components"]["schemas"]
    expected = ConfigView.model_json_schema(
        by_alias=True, ref_template=REF_TEMPLATE, mode="serialization"
    )
    assert schemas["ConfigView"] == {k: v for k, v in expected.items() if k != "$defs"}
    answer = document["paths"]["/api/config"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConfigView"
    }
    assert set(answer["headers"]) == {"ETag"}


async def test_the_docs_page_loads_only_files_the_proxy_serves(server, http) -> None:
    page = await send(http, server, "/api/docs", method="GET", key=None)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert "/api/openapi.json" in html
    assert not re.search(r"(https?:)?//", html), "no other host, no CDN"
    files = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/api/docs/swagger-ui-bundle.js", "/api/docs/swagger-ui.css"} <= set(files)
    for path in files:
        asset = await send(http, server, path, method="GET", key=None)
        assert asset.status == 200 and len(asset.body) > 0, path
        assert "max-age" in asset.headers["Cache-Control"]


async def test_swagger_ui_is_a_version_that_reads_openapi_3_1(server, http) -> None:
    bundle = await send(http, server, "/api/docs/swagger-ui-bundle.js", method="GET", key=None)
    version = re.search(rb'PACKAGE_VERSION:"(\d+)\.', bundle.body)
    assert version is not None and int(version.group(1)) >= 5


@pytest.mark.parametrize("name", ["index.html", "missing.js", "swagger-ui.css.map"])
async def test_only_the_pages_own_files_are_served(server, http, name) -> None:
    answer = await send(http, server, f"/api/docs/{name}", method="GET", key=None)
    assert answer.status == 404
