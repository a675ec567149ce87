"""Who may call what: route kinds, callers, and the answer for each (kind, caller, method)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp.test_utils import make_mocked_request

from chain429.admin.access import AccessKeys, Caller, RouteKind, route_kind
from chain429.config.schema import Settings

CLIENT, ADMIN = "client-key-0001", "adm-admin-key-0001"


def settings(**fields: Any) -> Settings:
    return Settings.model_validate({"apiKeys": [CLIENT], "defaultChain": "d", **fields})


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/health", RouteKind.PUBLIC),
        ("/api/openapi.json", RouteKind.PUBLIC),
        ("/api/docs", RouteKind.PUBLIC),
        ("/api/docs/swagger-ui.css", RouteKind.PUBLIC),
        ("/api/docs/../providers", RouteKind.MANAGEMENT),
        ("/api/docs/a/b", RouteKind.MANAGEMENT),
        ("/api/docs/.hidden", RouteKind.MANAGEMENT),
        ("/api/providers", RouteKind.MANAGEMENT),
        ("/api/openapi.json/x", RouteKind.MANAGEMENT),
        ("/api", RouteKind.MANAGEMENT),
        ("/v1/admin/config", RouteKind.MANAGEMENT),
        ("/v1/test/chain/x", RouteKind.MANAGEMENT),
        ("/v1/chat/completions", RouteKind.PROXY),
        ("/v1/stats/summary", RouteKind.PROXY),
        ("/v1/adminish", RouteKind.PROXY),
        ("/metrics", RouteKind.METRICS),
        ("/health/x", None),
        ("/metrics/x", None),
        ("/", RouteKind.PUBLIC),
        ("/limits", RouteKind.PUBLIC),
        ("/assets/index-abc123.js", RouteKind.PUBLIC),
        ("/healthz", RouteKind.PUBLIC),
        ("/apis", RouteKind.PUBLIC),
        ("/assets/../api/config", None),
        ("/./api/config", None),
        ("relative", None),
    ],
)
def test_every_path_has_its_kind(path: str, kind: RouteKind | None) -> None:
    assert route_kind(path) is kind


@pytest.mark.parametrize(
    ("header", "caller"),
    [
        ("", Caller.ANONYMOUS),
        ("Bearer", Caller.ANONYMOUS),
        ("Bearer   ", Caller.ANONYMOUS),
        (f"Basic {CLIENT}", Caller.ANONYMOUS),
        (f"Bearer {CLIENT}", Caller.CLIENT),
        (f"bearer {CLIENT} ", Caller.CLIENT),
        (f"Bearer {ADMIN}", Caller.ADMIN),
        (f"Bearer {ADMIN}x", Caller.UNKNOWN),
        (f"Bearer {CLIENT[:-1]}", Caller.UNKNOWN),
    ],
)
def test_the_caller_is_told_by_its_key(header: str, caller: Caller) -> None:
    assert AccessKeys(settings(adminKeys=[ADMIN])).caller(header) is caller


def test_update_follows_a_config_change() -> None:
    keys = AccessKeys(settings())
    assert not keys.writes_enabled and keys.caller(f"Bearer {ADMIN}") is Caller.UNKNOWN
    keys.update(settings(apiKeys=["new-client-key"], adminKeys=[ADMIN], corsOrigins=["http://a"]))
    assert keys.writes_enabled
    assert keys.caller(f"Bearer {ADMIN}") is Caller.ADMIN
    assert keys.caller(f"Bearer {CLIENT}") is Caller.UNKNOWN
    assert keys.caller("Bearer new-client-key") is Caller.CLIENT
    assert keys.allows_origin("http://a") and not keys.allows_origin("http://b")


def answer(keys: AccessKeys, method: str, path: str, key: str | None) -> tuple[int, str] | None:
    """(status, error code) of the refusal, or None when the request may go on."""
    request = make_mocked_request(method, path, headers=bearer(key) if key else {})
    refusal = keys.admit(request)
    if refusal is None:
        return None
    assert isinstance(refusal.body, bytes)
    return refusal.status, orjson.loads(refusal.body)["error"]["code"]


MISSING, UNKNOWN = (401, "missing_api_key"), (401, "invalid_api_key")
NOT_ADMIN, WRITES_OFF = (403, "admin_key_required"), (403, "management_writes_off")


@pytest.mark.parametrize(
    ("method", "path", "key", "expected"),
    [
        ("GET", "/api/providers", None, MISSING),
        ("GET", "/api/providers", "nope", UNKNOWN),
        ("GET", "/api/providers", CLIENT, NOT_ADMIN),
        ("POST", "/api/providers", CLIENT, NOT_ADMIN),
        ("GET", "/api/providers", ADMIN, None),
        ("DELETE", "/v1/admin/providers/p", ADMIN, None),
        ("POST", "/v1/test/chain/c", CLIENT, NOT_ADMIN),
        ("POST", "/v1/chat/completions", ADMIN, None),
        ("POST", "/v1/chat/completions", CLIENT, None),
        ("POST", "/v1/chat/completions", None, MISSING),
        ("GET", "/metrics", None, MISSING),
        ("GET", "/health", None, None),
        ("GET", "/api/docs", None, None),
        ("GET", "/nowhere", None, None),
    ],
)
def test_with_admin_keys_management_needs_one(method, path, key, expected) -> None:
    assert answer(AccessKeys(settings(adminKeys=[ADMIN])), method, path, key) == expected


@pytest.mark.parametrize(
    ("method", "path", "key", "expected"),
    [
        ("GET", "/api/config", CLIENT, None),
        ("HEAD", "/api/config", CLIENT, None),
        ("GET", "/v1/admin/config", CLIENT, None),
        ("GET", "/api/config", None, MISSING),
        ("POST", "/api/providers", None, MISSING),
        ("POST", "/api/providers", CLIENT, WRITES_OFF),
        ("PUT", "/api/chains/c", CLIENT, WRITES_OFF),
        ("PATCH", "/api/settings", CLIENT, WRITES_OFF),
        ("DELETE", "/v1/admin/chains/c", CLIENT, WRITES_OFF),
        ("POST", "/v1/test/chain/c", CLIENT, WRITES_OFF),
        ("POST", "/v1/chat/completions", CLIENT, None),
    ],
)
def test_without_admin_keys_clients_read_and_nobody_writes(method, path, key, expected) -> None:
    assert answer(AccessKeys(settings()), method, path, key) == expected


def test_the_refusals_say_what_to_do() -> None:
    keys = AccessKeys(settings())
    refusal = keys.admit(make_mocked_request("POST", "/api/providers", headers=bearer(CLIENT)))
    assert refusal is not None and isinstance(refusal.body, bytes)
    error = orjson.loads(refusal.body)["error"]
    assert error["type"] == "permission_error"
    assert "settings.adminKeys" in error["message"] and "429chain init" in error["message"]
    keys.update(settings(adminKeys=[ADMIN]))
    refusal = keys.admit(make_mocked_request("GET", "/api/providers", headers=bearer(CLIENT)))
    assert refusal is not None and isinstance(refusal.body, bytes)
    assert "settings.adminKeys" in orjson.loads(refusal.body)["error"]["message"]


def test_metrics_public_opens_metrics_only() -> None:
    keys = AccessKeys(settings(metricsPublic=True, adminKeys=[ADMIN]))
    assert answer(keys, "GET", "/metrics", None) is None
    assert answer(keys, "GET", "/api/ratelimits", None) == MISSING


def test_a_preflight_from_a_listed_origin_passes_before_any_key() -> None:
    keys = AccessKeys(settings(adminKeys=[ADMIN], corsOrigins=["http://ui.local:5173"]))
    headers = {"Origin": "http://ui.local:5173", "Access-Control-Request-Method": "PUT"}
    request = make_mocked_request("OPTIONS", "/api/chains/c", headers=headers)
    refusal = keys.admit(request)
    assert refusal is not None and refusal.status == 204
    other = {**headers, "Origin": "http://evil.local"}
    assert answer_of(keys, make_mocked_request("OPTIONS", "/api/chains/c", headers=other)) == 401


def answer_of(keys: AccessKeys, request: Any) -> int | None:
    refusal = keys.admit(request)
    return None if refusal is None else refusal.status
