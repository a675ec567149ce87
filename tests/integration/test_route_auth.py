"""Every route the app registers is classified, and each kind asks for its key: a route added
later without a classification, or under a path no rule guards, fails here.

The app is the one `create_app` builds, served for real; each route is called with its path
parameters filled in with a sample value, under each method it was registered for.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from chain429.admin.access import RouteKind, route_kind
from chain429.server import RunningServer
from tests.support.client import send
from tests.support.proxy import CLIENT_KEY, make_config

ADMIN_KEY = "adm-route-auth-admin-key-0001"
SAMPLE = "sample"
PARAMETER = re.compile(r"\{[^}]+\}")
#: Some routes of each kind, so the walk below can never pass by finding nothing.
KNOWN = {
    ("GET", "/api/config"): RouteKind.MANAGEMENT,
    ("GET", "/api/providers/{id}"): RouteKind.MANAGEMENT,
    ("GET", "/v1/admin/config"): RouteKind.MANAGEMENT,
    ("POST", "/v1/chat/completions"): RouteKind.PROXY,
    ("GET", "/metrics"): RouteKind.METRICS,
    ("GET", "/health"): RouteKind.PUBLIC,
    ("GET", "/api/openapi.json"): RouteKind.PUBLIC,
}


def registered(server: RunningServer) -> list[tuple[str, str]]:
    """(method, path template) of every route, HEAD twins of GET routes included."""
    routes = {
        (route.method, route.resource.canonical)
        for route in server.app.router.routes()
        if route.resource is not None
    }
    return sorted(routes)


def filled(template: str) -> str:
    return PARAMETER.sub(SAMPLE, template)


async def status_of(http, server: RunningServer, path: str, method: str, key: str) -> int:
    """The status a call gets, its body left unread: an event stream never ends by itself."""
    headers = {"Authorization": f"Bearer {key}"}
    async with http.request(method, server.url + path, headers=headers) as answer:
        status = answer.status
        answer.close()  # the connection goes with the unread body, never back to the pool
        return status


@pytest.fixture
async def guarded(proxy_factory) -> RunningServer:
    """A proxy with admin keys (every management route needs one)."""
    config = make_config(
        [("a", "http://127.0.0.1:9/v1")], settings={"adminKeys": [ADMIN_KEY], "recordUsage": True}
    )
    return await proxy_factory(config)


async def test_every_route_is_classified(guarded) -> None:
    routes = registered(guarded)
    unclassified = [f"{m} {p}" for m, p in routes if route_kind(filled(p)) is None]
    assert not unclassified, f"add these to chain429.admin.access: {unclassified}"
    kinds = {(m, p): route_kind(filled(p)) for m, p in routes}
    assert {key: kinds.get(key) for key in KNOWN} == KNOWN


async def test_management_routes_refuse_no_key_and_a_client_key(guarded, http) -> None:
    management = [
        (m, p) for m, p in registered(guarded) if route_kind(filled(p)) is RouteKind.MANAGEMENT
    ]
    assert len(management) >= 10
    failures = []
    for method, template in management:
        path = filled(template)
        anonymous = await send(http, guarded, path, method=method, key=None)
        client = await send(http, guarded, path, method=method, key=CLIENT_KEY)
        if (anonymous.status, client.status) != (401, 403):
            failures.append(f"{method} {path}: no key {anonymous.status}, client {client.status}")
        elif method != "HEAD":
            assert client.error["code"] == "admin_key_required", path
    assert not failures, failures


async def test_management_reads_take_an_admin_key(guarded, http) -> None:
    reads = [
        (m, p)
        for m, p in registered(guarded)
        if m == "GET" and route_kind(filled(p)) is RouteKind.MANAGEMENT
    ]
    for _, template in reads:
        status = await status_of(http, guarded, filled(template), "GET", ADMIN_KEY)
        assert status not in (401, 403), template


async def test_without_admin_keys_client_keys_read_and_never_write(proxy_factory, http) -> None:
    server = await proxy_factory(make_config([("a", "http://127.0.0.1:9/v1")]))
    management = [
        (m, p) for m, p in registered(server) if route_kind(filled(p)) is RouteKind.MANAGEMENT
    ]
    for method, template in management:
        path = filled(template)
        if method in ("GET", "HEAD"):
            status = await status_of(http, server, path, method, CLIENT_KEY)
            assert status not in (401, 403), f"{method} {path}"
        else:
            answer = await send(http, server, path, method=method, key=CLIENT_KEY)
            assert answer.status == 403, f"{method} {path}"
            assert answer.error["code"] == "management_writes_off"


async def test_proxy_routes_refuse_no_key_and_take_a_client_or_admin_key(guarded, http) -> None:
    proxied = [
        (m, p)
        for m, p in registered(guarded)
        if route_kind(filled(p)) in (RouteKind.PROXY, RouteKind.METRICS)
    ]
    assert len(proxied) >= 8
    for method, template in proxied:
        path = filled(template)
        assert (await send(http, guarded, path, method=method, key=None)).status == 401, path
        for key in (CLIENT_KEY, ADMIN_KEY):
            # No body: a completion is a 400 that never reaches an upstream.
            answer = await send(http, guarded, path, b"", method=method, key=key)
            assert answer.status not in (401, 403), f"{method} {path}"


async def test_public_routes_need_no_key(guarded, http) -> None:
    public = [(m, p) for m, p in registered(guarded) if route_kind(filled(p)) is RouteKind.PUBLIC]
    assert len(public) >= 3
    for method, template in public:
        path = filled(template)
        answer = await send(http, guarded, path, method=method, key=None)
        assert answer.status not in (401, 403), f"{method} {path}"


@pytest.mark.parametrize(
    "path",
    [
        "/api/docs/..%2Fconfig",
        "/api/docs/%2E%2E/config",
        "/api/docs/../config",
        "/api/docs/%2e%2e%2fsettings",
        "/api/docs//../providers",
        "/health/../api/config",
        "/api/openapi.json/../config",
    ],
)
async def test_no_public_path_leads_to_a_management_route(guarded, http, path) -> None:
    answer = await send(http, guarded, path, method="GET", key=None)
    assert answer.status in (401, 404), (path, answer.status)
    assert b"apiKeyLabels" not in answer.body and b'"providers":' not in answer.body


@pytest.mark.parametrize("target", ["/api/docs/../config", "/api/docs/./../settings"])
async def test_no_raw_dot_segment_leads_to_a_management_route(guarded, target) -> None:
    """Sent as written (HTTP clients would resolve the dots before sending)."""
    reader, writer = await asyncio.open_connection(guarded.host, guarded.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    status = int(answer.split(b" ", 2)[1])
    assert status in (401, 404), (target, answer[:200])
    assert b"apiKeyLabels" not in answer
