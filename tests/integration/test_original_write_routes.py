"""The original 429chain's admin writes (`/v1/admin/...`), with its shapes, on a proxy run from
a config file: scripts written against the original keep working, and the file keeps its
comments."""

from __future__ import annotations

import pytest

from tests.support.config_file import (
    A_KEY,
    B_KEY,
    KEY_VARIABLE,
    api,
    start_file_proxy,
    write_config,
)
from tests.support.upstream import ok


@pytest.fixture
async def running(upstream_factory, proxy_factory, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, A_KEY)
    upstream = await upstream_factory(ok())
    path = write_config(tmp_path, upstream.base_url)
    return await start_file_proxy(proxy_factory, path), path, upstream.base_url


def provider(provider_id: str, url: str, **fields) -> dict:
    return {"id": provider_id, "type": "generic-openai", "apiKey": "sk-test-c-key-000000cccc",
            "baseUrl": url, **fields}  # fmt: skip


async def test_put_provider_creates_or_replaces_and_shows_the_key_masked(running, http) -> None:
    server, path, url = running
    answer = await api(http, server, "PUT", "/v1/admin/providers/c", provider("c", url))
    assert answer.status == 200, answer.body
    shown = answer.json()["provider"]
    assert {k: shown[k] for k in ("id", "type", "baseUrl", "apiKey")} == {
        "id": "c", "type": "generic-openai", "baseUrl": url, "apiKey": "***",
    }  # fmt: skip
    assert "  - id: c\n" in path.read_text()
    assert "# the first provider takes its key from the environment" in path.read_text()


async def test_put_provider_refuses_a_mismatched_id_or_a_bad_schema_with_a_400(
    running, http
) -> None:
    server, _, url = running
    mismatch = await api(http, server, "PUT", "/v1/admin/providers/x", provider("c", url))
    assert mismatch.status == 400 and "does not match" in mismatch.json()["error"]
    no_type = await api(http, server, "PUT", "/v1/admin/providers/c", {"id": "c"})
    assert no_type.status == 400 and "type" in no_type.json()["error"]
    no_url = provider("c", url)
    del no_url["baseUrl"]
    invalid = await api(http, server, "PUT", "/v1/admin/providers/c", no_url)
    assert invalid.status == 400 and "providers[2]" in invalid.json()["error"]


async def test_put_provider_with_the_masked_key_keeps_the_key(running, http) -> None:
    server, path, url = running
    answer = await api(
        http, server, "PUT", "/v1/admin/providers/b", provider("b", url, apiKey="***")
    )
    assert answer.status == 200, answer.body
    assert f"apiKey: {B_KEY}\n" in path.read_text()


async def test_header_values_are_masked_and_a_masked_one_sent_back_keeps_its_value(
    running, http
) -> None:
    server, path, url = running
    secret = "azure-header-secret-0000hhhh"
    headers = {"api-key": secret, "X-Title": "demo"}
    written = await api(
        http, server, "PUT", "/v1/admin/providers/b", provider("b", url, headers=headers)
    )
    assert written.status == 200, written.body
    assert written.json()["provider"]["headers"] == {"api-key": "***", "X-Title": "demo"}
    config = await api(http, server, "GET", "/v1/admin/config")
    shown = next(p for p in config.json()["providers"] if p["id"] == "b")
    assert shown["headers"] == {"api-key": "***", "X-Title": "demo"}
    assert secret.encode() not in config.body
    again = await api(http, server, "PUT", "/v1/admin/providers/b", shown)
    assert again.status == 200, again.body
    assert f"api-key: {secret}\n" in path.read_text() and "X-Title: demo\n" in path.read_text()
    unknown = {**shown, "headers": {"X-Other": "***"}}
    refused = await api(http, server, "PUT", "/v1/admin/providers/b", unknown)
    assert refused.status == 400 and "no such header" in refused.json()["error"]


async def test_delete_provider_answers_as_the_original(running, http) -> None:
    server, _, url = running
    in_use = await api(http, server, "DELETE", "/v1/admin/providers/a")
    assert (in_use.status, in_use.json()) == (
        400, {"error": "Provider is referenced by chains: default"}
    )  # fmt: skip
    missing = await api(http, server, "DELETE", "/v1/admin/providers/nope")
    assert (missing.status, missing.json()) == (404, {"error": "Provider not found"})
    await api(http, server, "PUT", "/v1/admin/providers/c", provider("c", url))
    gone = await api(http, server, "DELETE", "/v1/admin/providers/c")
    assert (gone.status, gone.json()) == (200, {"deleted": "c"})


async def test_put_chain_creates_or_replaces_and_names_unknown_providers(running, http) -> None:
    server, _, _ = running
    entries = [{"provider": "b", "model": "b-model"}, {"provider": "a", "model": "a-model"}]
    answer = await api(http, server, "PUT", "/v1/admin/chains/spare", {"entries": entries})
    assert answer.status == 200, answer.body
    chain = answer.json()["chain"]
    assert chain["name"] == "spare"
    assert [(e["provider"], e["model"]) for e in chain["entries"]] == [
        ("b", "b-model"),
        ("a", "a-model"),
    ]
    unknown = [{"provider": "x", "model": "m"}, {"provider": "y", "model": "m"}]
    refused = await api(http, server, "PUT", "/v1/admin/chains/spare", {"entries": unknown})
    assert (refused.status, refused.json()) == (
        400, {"error": "Chain references non-existent providers: x, y"}
    )  # fmt: skip
    empty = await api(http, server, "PUT", "/v1/admin/chains/spare", {"entries": []})
    assert empty.status == 400 and "entries" in empty.json()["error"]


async def test_delete_chain_answers_as_the_original(running, http) -> None:
    server, _, _ = running
    default = await api(http, server, "DELETE", "/v1/admin/chains/default")
    assert (default.status, default.json()) == (400, {"error": "Cannot delete default chain"})
    missing = await api(http, server, "DELETE", "/v1/admin/chains/nope")
    assert (missing.status, missing.json()) == (404, {"error": "Chain not found"})
    entries = [{"provider": "a", "model": "a-model"}]
    await api(http, server, "PUT", "/v1/admin/chains/spare", {"entries": entries})
    gone = await api(http, server, "DELETE", "/v1/admin/chains/spare")
    assert (gone.status, gone.json()) == (200, {"deleted": "spare"})
