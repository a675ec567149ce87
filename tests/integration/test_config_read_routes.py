"""The management API's reads over the wire: each route's answer, its `ETag`, its 404, and no
key in any answer."""

from __future__ import annotations

import pytest

from chain429.config.version import config_version
from tests.support.client import send
from tests.support.proxy import CLIENT_KEY, PROVIDER_KEY, make_config

ADMIN_KEY = "adm-read-routes-admin-key-0001"
SECOND_KEY = "sk-second-provider-key-zzzz9876"
READS = [
    "/api/providers",
    "/api/providers/a",
    "/api/chains",
    "/api/chains/fast",
    "/api/settings",
    "/api/config",
    "/v1/admin/config",
]


@pytest.fixture
async def served(proxy_factory):
    config = make_config(
        [("a", "http://127.0.0.1:9/v1"), ("b", "http://127.0.0.1:9/v1")],
        settings={"adminKeys": [ADMIN_KEY]},
        provider_extra={"b": {"apiKeys": [SECOND_KEY], "rateLimits": {"requestsPerDay": 10}}},
        extra_chains={"fast": [("b", "m2"), ("a", "m1")]},
    )
    return config, await proxy_factory(config)


async def read(http, server, path: str):
    answer = await send(http, server, path, method="GET", key=ADMIN_KEY)
    assert answer.status == 200, (path, answer.body)
    return answer


@pytest.mark.parametrize("path", READS)
async def test_every_read_carries_the_config_version_and_no_key(served, http, path) -> None:
    config, server = served
    answer = await read(http, server, path)
    assert answer.headers["ETag"] == config_version(config)
    assert answer.headers["Content-Type"].startswith("application/json")
    for key in (PROVIDER_KEY, SECOND_KEY, CLIENT_KEY, ADMIN_KEY):
        assert key.encode() not in answer.body, (path, key)


async def test_providers_list_and_one(served, http) -> None:
    _, server = served
    providers = (await read(http, server, "/api/providers")).json()["providers"]
    assert [p["id"] for p in providers] == ["a", "b"]
    b = (await read(http, server, "/api/providers/b")).json()
    assert b == providers[1]
    assert b["keys"] == [{"label": "…3456"}, {"label": "…9876"}]
    assert b["rateLimits"]["requestsPerDay"] == 10
    assert b["type"] == "generic-openai" and b["baseUrl"] == "http://127.0.0.1:9/v1"


async def test_chains_list_and_one_in_order(served, http) -> None:
    _, server = served
    chains = (await read(http, server, "/api/chains")).json()["chains"]
    assert [(c["name"], c["isDefault"]) for c in chains] == [("default", True), ("fast", False)]
    fast = (await read(http, server, "/api/chains/fast")).json()
    assert [(e["provider"], e["model"]) for e in fast["entries"]] == [("b", "m2"), ("a", "m1")]


async def test_settings_show_labels_for_keys(served, http) -> None:
    config, server = served
    shown = (await read(http, server, "/api/settings")).json()
    assert shown["apiKeyLabels"] == ["…0001"] and shown["adminKeyLabels"] == ["…0001"]
    assert shown["defaultChain"] == "default"
    assert shown["requestTimeoutMs"] == config.settings.request_timeout_ms


async def test_the_whole_config_is_the_parts_together(served, http) -> None:
    _, server = served
    whole = (await read(http, server, "/api/config")).json()
    assert whole["version"] == 1
    assert whole["settings"] == (await read(http, server, "/api/settings")).json()
    assert whole["providers"] == (await read(http, server, "/api/providers")).json()["providers"]
    assert whole["chains"] == (await read(http, server, "/api/chains")).json()["chains"]


async def test_the_originals_admin_config_has_its_shape(served, http) -> None:
    _, server = served
    shown = (await read(http, server, "/v1/admin/config")).json()
    assert set(shown) == {"providers", "chains"}
    assert [p["apiKey"] for p in shown["providers"]] == ["***", "***"]
    assert shown["providers"][1]["apiKeys"] == ["***"]
    assert shown["chains"][1] == {
        "name": "fast",
        "entries": [{"provider": "b", "model": "m2"}, {"provider": "a", "model": "m1"}],
    }


@pytest.mark.parametrize(
    ("path", "code"),
    [("/api/providers/nope", "provider_not_found"), ("/api/chains/nope", "chain_not_found")],
)
async def test_an_unknown_id_is_a_404_in_the_openai_shape(served, http, path, code) -> None:
    _, server = served
    answer = await send(http, server, path, method="GET", key=ADMIN_KEY)
    assert answer.status == 404
    assert answer.error["code"] == code and answer.error["type"] == "not_found_error"
    assert "'nope'" in answer.error["message"]
