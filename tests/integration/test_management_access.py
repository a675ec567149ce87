"""Who may call the management API, over the wire: admin keys, client keys without them, keys
that follow a live config change, and CORS for listed origins only."""

from __future__ import annotations

from typing import Any

from chain429.admin.access import ACCESS_KEYS
from chain429.config.schema import Settings
from tests.support.client import send
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.upstream import ok

ADMIN_KEY = "adm-management-admin-key-0001"
ORIGIN = "http://localhost:5173"


def config(upstream_url: str = "http://127.0.0.1:9/v1", **settings: Any):
    return make_config([("a", upstream_url)], settings=settings)


async def test_an_admin_key_serves_completions_like_a_client_key(
    upstream_factory, proxy_factory, client_factory
) -> None:
    upstream = await upstream_factory(ok("hi"))
    server = await proxy_factory(config(upstream.base_url, adminKeys=[ADMIN_KEY]))
    client = client_factory(server, api_key=ADMIN_KEY)
    answer = await client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": "x"}]
    )
    assert answer.choices[0].message.content == "hi"
    assert [m.id async for m in client.models.list()][0] == "default"


async def test_with_admin_keys_a_client_key_is_refused_with_the_setting_named(
    proxy_factory, http
) -> None:
    server = await proxy_factory(config(adminKeys=[ADMIN_KEY]))
    refused = await send(http, server, "/api/config", method="GET", key=CLIENT_KEY)
    assert refused.status == 403
    assert refused.error["type"] == "permission_error"
    assert "settings.adminKeys" in refused.error["message"]
    assert (await send(http, server, "/api/config", method="GET", key=None)).status == 401
    assert (await send(http, server, "/api/config", method="GET", key=ADMIN_KEY)).status == 200


async def test_without_admin_keys_writes_say_how_to_enable_them(proxy_factory, http) -> None:
    server = await proxy_factory(config())
    read = await send(http, server, "/api/providers", method="GET", key=CLIENT_KEY)
    assert read.status == 200
    write = await send(http, server, "/api/providers", {"id": "x"}, method="POST")
    assert write.status == 403
    assert write.error["code"] == "management_writes_off"
    assert "settings.adminKeys" in write.error["message"]
    assert "429chain init" in write.error["message"]


async def test_the_keys_follow_a_live_config_change(proxy_factory, http) -> None:
    first = config()
    server = await proxy_factory(first)
    assert (await send(http, server, "/api/config", method="GET")).status == 200
    changed = {**first.settings.model_dump(), "admin_keys": (ADMIN_KEY,)}
    server.app[ACCESS_KEYS].update(Settings.model_validate(changed))
    assert (await send(http, server, "/api/config", method="GET")).status == 403
    assert (await send(http, server, "/api/config", method="GET", key=ADMIN_KEY)).status == 200
    renamed = {**changed, "api_keys": ("a-new-client-key",)}
    server.app[ACCESS_KEYS].update(Settings.model_validate(renamed))
    assert (await send(http, server, "/v1/models", method="GET")).status == 401
    models = await send(http, server, "/v1/models", method="GET", key="a-new-client-key")
    assert models.status == 200


async def test_a_listed_origin_gets_its_preflight_and_readable_answers(proxy_factory, http) -> None:
    server = await proxy_factory(config(adminKeys=[ADMIN_KEY], corsOrigins=[ORIGIN]))
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, content-type, if-match",
    }
    answer = await send(
        http, server, "/api/chains/default", method="OPTIONS", key=None, headers=preflight
    )
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PUT" in answer.headers["Access-Control-Allow-Methods"]
    allowed = answer.headers["Access-Control-Allow-Headers"]
    assert allowed == "Authorization, Content-Type, If-Match"
    read = await send(
        http, server, "/api/config", method="GET", key=ADMIN_KEY, headers={"Origin": ORIGIN}
    )
    assert read.status == 200
    assert read.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]
    refused = await send(
        http, server, "/api/config", method="GET", key=None, headers={"Origin": ORIGIN}
    )
    assert refused.status == 401 and refused.headers["Access-Control-Allow-Origin"] == ORIGIN


async def test_other_origins_and_unconfigured_proxies_send_no_cors_header(
    proxy_factory, http
) -> None:
    listed = await proxy_factory(config(adminKeys=[ADMIN_KEY], corsOrigins=[ORIGIN]))
    closed = await proxy_factory(config(adminKeys=[ADMIN_KEY]))
    for server, origin in ((listed, "http://evil.example"), (closed, ORIGIN)):
        preflight = {"Origin": origin, "Access-Control-Request-Method": "GET"}
        answer = await send(
            http, server, "/api/config", method="OPTIONS", key=None, headers=preflight
        )
        assert answer.status in (401, 405)
        read = await send(
            http, server, "/api/config", method="GET", key=ADMIN_KEY, headers={"Origin": origin}
        )
        assert read.status == 200
        for headers in (answer.headers, read.headers):
            assert not [h for h in headers if h.lower().startswith("access-control")]
