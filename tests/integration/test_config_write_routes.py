"""The management API's writes on a real proxy run from a config FILE: each route and error case,
`If-Match`, the file after the edits (comments, order and `${ENV}` kept), a change served at
once to the openai SDK, a read-only config, reloads and the `config` event."""

from __future__ import annotations

import asyncio
import errno
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from chain429.app import AppOptions
from chain429.config.save import LOCAL_FILES
from chain429.server import RunningServer
from tests.support.client import send
from tests.support.config_file import (
    A_KEY,
    B_KEY,
    KEY_VARIABLE,
    api,
    config_text,
    start_file_proxy,
    write_config,
)
from tests.support.events import event_stream
from tests.support.proxy import ADMIN_KEY, CLIENT_KEY, make_config
from tests.support.upstream import FakeUpstream, ok


@dataclass
class Running:
    server: RunningServer
    path: Path
    upstream: FakeUpstream

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


@pytest.fixture
async def running(upstream_factory, proxy_factory, tmp_path, monkeypatch) -> Running:
    monkeypatch.setenv(KEY_VARIABLE, A_KEY)
    upstream = await upstream_factory(ok("served"))
    path = write_config(tmp_path, upstream.base_url)
    return Running(await start_file_proxy(proxy_factory, path), path, upstream)


def new_provider(upstream: FakeUpstream, **fields) -> dict:
    return {
        "id": "c",
        "type": "generic-openai",
        "apiKey": "sk-test-c-key-000000cccc",
        "baseUrl": upstream.base_url,
        **fields,
    }


async def version(http, running: Running) -> str:
    return (await api(http, running.server, "GET", "/api/config")).headers["ETag"]


# providers


async def test_a_provider_is_created_saved_and_answered_with_its_key_as_a_label(
    running, http
) -> None:
    before = await version(http, running)
    answer = await api(
        http, running.server, "POST", "/api/providers", new_provider(running.upstream)
    )
    assert answer.status == 201, answer.body
    assert answer.json()["keys"] == [{"label": "…cccc"}]
    assert b"sk-test-c-key" not in answer.body
    assert answer.headers["ETag"] != before
    assert answer.headers["ETag"] == await version(http, running)
    assert "  - id: c\n" in running.text()
    again = await api(
        http, running.server, "POST", "/api/providers", new_provider(running.upstream)
    )
    assert (again.status, again.error["code"]) == (409, "provider_exists")


async def test_put_replaces_a_provider_and_keeps_keys_left_out_or_sent_as_labels(
    running, http
) -> None:
    shown = (await api(http, running.server, "GET", "/api/providers/b")).json()
    shown["name"] = "Provider B"
    answer = await api(http, running.server, "PUT", "/api/providers/b", shown)
    assert answer.status == 200, answer.body
    assert answer.json()["name"] == "Provider B"
    left_out = {"type": "generic-openai", "baseUrl": running.upstream.base_url, "timeout": 4000}
    answer = await api(http, running.server, "PUT", "/api/providers/a", left_out)
    assert answer.status == 200, answer.body
    text = running.text()
    assert f"apiKey: {B_KEY}\n" in text
    assert f"apiKey: ${{{KEY_VARIABLE}}}  # never written out\n" in text
    assert "timeout: 4000" in text
    created = await api(
        http, running.server, "PUT", "/api/providers/d", new_provider(running.upstream, id="d")
    )
    assert created.status == 200 and created.json()["id"] == "d"


# header values: write-only like keys

HEADER_SECRET = "azure-header-secret-0000hhhh"
NEW_HEADER_SECRET = "azure-header-secret-0000nnnn"


async def put_b_headers(running: Running, http, headers: dict) -> dict:
    body = {"type": "generic-openai", "apiKey": "…bbbb", "baseUrl": running.upstream.base_url}
    answer = await api(
        http, running.server, "PUT", "/api/providers/b", {**body, "headers": headers}
    )
    assert answer.status == 200, answer.body
    return answer.json()


async def test_header_values_are_shown_as_labels_and_kept_when_written_back(running, http) -> None:
    reference = f"${{{KEY_VARIABLE}}}"
    headers = {"api-key": HEADER_SECRET, "X-Ref": reference, "X-Title": "demo"}
    written = await put_b_headers(running, http, headers)
    # api-key carries a credential by name, X-Ref holds a key; X-Title is a plain setting
    assert written["headers"] == {"api-key": "…hhhh", "X-Ref": "…aaaa", "X-Title": "demo"}
    assert running.path.stat().st_mode & 0o777 == 0o600, "a header value entered through the API"
    paths = ("/api/providers/b", "/api/providers", "/api/config", "/v1/admin/config")
    reads = [await api(http, running.server, "GET", path) for path in paths]
    for read in reads:
        assert read.status == 200, read.body
        for shown_never in (HEADER_SECRET.encode(), A_KEY.encode()):
            assert shown_never not in read.body
    shown = reads[0].json()
    again = await api(http, running.server, "PUT", "/api/providers/b", shown)
    assert again.status == 200 and again.json()["headers"] == written["headers"]
    text = running.text()
    assert f"api-key: {HEADER_SECRET}\n" in text and "X-Title: demo\n" in text
    assert f"X-Ref: ${{{KEY_VARIABLE}}}\n" in text, "a reference stays a reference"
    chat = {"model": "b/b-model", "messages": [{"role": "user", "content": "hi"}]}
    await send(http, running.server, "/v1/chat/completions", chat, key=CLIENT_KEY)
    sent = running.upstream.headers_seen[-1]
    assert (sent["api-key"], sent["X-Ref"], sent["X-Title"]) == (HEADER_SECRET, A_KEY, "demo")


async def test_a_new_header_value_replaces_the_old_and_a_header_left_out_goes(
    running, http
) -> None:
    await put_b_headers(running, http, {"api-key": HEADER_SECRET, "X-Title": "demo"})
    replaced = await put_b_headers(running, http, {"api-key": NEW_HEADER_SECRET})
    assert replaced["headers"] == {"api-key": "…nnnn"}
    text = running.text()
    assert f"api-key: {NEW_HEADER_SECRET}\n" in text
    assert HEADER_SECRET not in text and "X-Title" not in text
    body = {"type": "generic-openai", "baseUrl": running.upstream.base_url}
    unknown = await api(
        http, running.server, "PUT", "/api/providers/b", {**body, "headers": {"X-Key": "…nnnn"}}
    )
    assert unknown.status == 422 and "is the label of a header value" in unknown.error["message"]
    assert running.text() == text


async def test_put_refuses_a_body_id_that_is_not_the_paths(running, http) -> None:
    answer = await api(
        http, running.server, "PUT", "/api/providers/b", new_provider(running.upstream)
    )
    assert answer.status == 422
    assert (answer.error["code"], answer.error["param"]) == ("id_mismatch", "id")


async def test_an_invalid_provider_is_a_422_with_field_paths_and_changes_nothing(
    running, http
) -> None:
    text, before = running.text(), await version(http, running)
    no_url = {"id": "c", "type": "generic-openai", "apiKey": "sk-test-c-key-000000cccc"}
    answer = await api(http, running.server, "POST", "/api/providers", no_url)
    assert answer.status == 422, answer.body
    assert answer.error["code"] == "invalid_config"
    assert answer.error["param"].startswith("providers[2]")
    assert "providers[2]" in answer.error["message"]
    bad_body = await api(http, running.server, "POST", "/api/providers", {"id": "c", "timeout": 1})
    assert bad_body.status == 422 and bad_body.error["param"] in ("type", "timeout")
    assert "type" in bad_body.error["message"] and "timeout" in bad_body.error["message"]
    not_json = await api(http, running.server, "POST", "/api/providers", b"{")
    assert (not_json.status, not_json.error["code"]) == (400, "invalid_json")
    assert running.text() == text and await version(http, running) == before


async def test_deleting_a_provider_in_use_names_its_chains(running, http) -> None:
    in_use = await api(http, running.server, "DELETE", "/api/providers/a")
    assert (in_use.status, in_use.error["code"]) == (409, "provider_in_use")
    assert "default" in in_use.error["message"]
    missing = await api(http, running.server, "DELETE", "/api/providers/nope")
    assert (missing.status, missing.error["code"]) == (404, "provider_not_found")
    await api(http, running.server, "POST", "/api/providers", new_provider(running.upstream))
    gone = await api(http, running.server, "DELETE", "/api/providers/c")
    assert (gone.status, gone.json()) == (200, {"deleted": "c"})
    assert "id: c" not in running.text()


# chains


async def test_a_new_chain_serves_the_openai_sdk_at_once(running, http, client_factory) -> None:
    body = {"name": "fast", "entries": [{"provider": "b", "model": "b-model"}]}
    answer = await api(http, running.server, "POST", "/api/chains", body)
    assert answer.status == 201, answer.body
    assert answer.json()["isDefault"] is False
    assert [(e["provider"], e["model"]) for e in answer.json()["entries"]] == [("b", "b-model")]
    client = client_factory(running.server)
    reply = await client.chat.completions.create(
        model="fast", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "served"
    assert running.upstream.received[-1]["model"] == "b-model"
    again = await api(http, running.server, "POST", "/api/chains", body)
    assert (again.status, again.error["code"]) == (409, "chain_exists")


async def test_put_reorders_a_chain_and_the_order_is_served(running, http, client_factory) -> None:
    entries = [{"provider": "b", "model": "b-model"}, {"provider": "a", "model": "a-model"}]
    answer = await api(http, running.server, "PUT", "/api/chains/default", {"entries": entries})
    assert answer.status == 200, answer.body
    shown = [{"provider": e["provider"], "model": e["model"]} for e in answer.json()["entries"]]
    assert shown == entries and answer.json()["isDefault"] is True
    await client_factory(running.server).chat.completions.create(
        model="default", messages=[{"role": "user", "content": "hi"}]
    )
    assert running.upstream.received[-1]["model"] == "b-model"
    mismatch = await api(
        http, running.server, "PUT", "/api/chains/default", {"name": "x", "entries": entries}
    )
    assert (mismatch.status, mismatch.error["param"]) == (422, "name")
    unknown = await api(
        http, running.server, "PUT", "/api/chains/x", {"entries": [{"provider": "z", "model": "m"}]}
    )
    assert (unknown.status, unknown.error["code"]) == (422, "invalid_config")
    assert unknown.error["param"].startswith("chains[1]")


async def test_the_default_chain_cannot_be_deleted_and_others_can(running, http) -> None:
    default = await api(http, running.server, "DELETE", "/api/chains/default")
    assert (default.status, default.error["code"]) == (409, "default_chain")
    missing = await api(http, running.server, "DELETE", "/api/chains/nope")
    assert (missing.status, missing.error["code"]) == (404, "chain_not_found")
    body = {"name": "spare", "entries": [{"provider": "a", "model": "a-model"}]}
    await api(http, running.server, "POST", "/api/chains", body)
    gone = await api(http, running.server, "DELETE", "/api/chains/spare")
    assert (gone.status, gone.json()) == (200, {"deleted": "spare"})


# settings


async def test_a_settings_patch_applies_live_and_names_what_needs_a_restart(running, http) -> None:
    answer = await api(
        http, running.server, "PATCH", "/api/settings", {"queueMode": True, "port": 4555}
    )
    assert answer.status == 200, answer.body
    shown = answer.json()
    assert shown["queueMode"] is True and shown["port"] == 4555
    assert shown["restartRequired"] == ["settings.port"]
    assert "queueMode: true" in running.text()
    back = await api(http, running.server, "PATCH", "/api/settings", {"port": None})
    assert back.json()["port"] == 3429 and back.json()["restartRequired"] == ["settings.port"]
    assert "port:" not in running.text()


async def test_a_database_url_is_answered_masked_and_sent_back_keeps_its_password(
    running, http
) -> None:
    url = "postgresql://chain429:pw-0123-secret@db.internal:5432/usage"
    answer = await api(http, running.server, "PATCH", "/api/settings", {"database": url})
    assert answer.status == 200, answer.body
    assert answer.json()["database"] == "postgresql://chain429:***@db.internal:5432/usage"
    assert answer.json()["restartRequired"] == ["settings.database"]
    assert b"pw-0123-secret" not in answer.body and url in running.text()
    shown = (await api(http, running.server, "GET", "/api/settings")).json()
    again = await api(http, running.server, "PATCH", "/api/settings", shown)
    assert again.status == 200, again.body
    assert url in running.text(), "the masked URL sent back left the password as it was"


async def test_a_setting_the_environment_gives_is_refused_naming_its_variable(
    running, http, monkeypatch
) -> None:
    monkeypatch.setenv("CHAIN429_PORT", "4999")
    before = running.text()
    answer = await api(http, running.server, "PATCH", "/api/settings", {"port": 4555})
    assert (answer.status, answer.error["code"]) == (422, "invalid_config")
    assert answer.error["param"] == "settings.port"
    assert "CHAIN429_PORT" in answer.error["message"]
    assert running.text() == before
    other = await api(http, running.server, "PATCH", "/api/settings", {"queueMode": True})
    assert other.status == 200, other.body


async def test_new_admin_keys_take_effect_at_once(running, http) -> None:
    new_key = "adm-test-admin-key-0002"
    answer = await api(
        http, running.server, "PATCH", "/api/settings", {"adminKeys": [ADMIN_KEY, new_key]}
    )
    assert answer.status == 200 and answer.json()["restartRequired"] == []
    assert new_key.encode() not in answer.body
    assert (await api(http, running.server, "GET", "/api/config", key=new_key)).status == 200
    client = await api(http, running.server, "PATCH", "/api/settings", {}, key=CLIENT_KEY)
    assert client.status == 403


# If-Match


async def test_a_stale_if_match_is_a_412_and_a_current_one_or_a_star_passes(running, http) -> None:
    first = await version(http, running)
    body = {"queueMode": True}
    assert (
        await api(http, running.server, "PATCH", "/api/settings", body, if_match=first)
    ).status == 200
    stale = await api(http, running.server, "PATCH", "/api/settings", {}, if_match=first)
    assert (stale.status, stale.error["code"]) == (412, "stale_version")
    assert "read it again" in stale.error["message"]
    for tag in (await version(http, running), "*"):
        assert (
            await api(http, running.server, "DELETE", "/api/chains/x", if_match=tag)
        ).status == 404


async def test_concurrent_writes_with_one_if_match_one_wins_the_other_is_412(running, http) -> None:
    tag = await version(http, running)
    writes = [
        api(http, running.server, "PATCH", "/api/settings", {"queueMaxSize": size}, if_match=tag)
        for size in (5, 6)
    ]
    answers = await asyncio.gather(*writes)
    assert sorted(a.status for a in answers) == [200, 412]


# the file


async def test_the_file_after_a_round_of_edits_keeps_comments_order_and_references(
    running, http
) -> None:
    url = running.upstream.base_url
    await api(http, running.server, "POST", "/api/providers", new_provider(running.upstream))
    shown = (await api(http, running.server, "GET", "/api/providers/a")).json()
    await api(http, running.server, "PUT", "/api/providers/a", {**shown, "timeout": 7000})
    entries = [{"provider": "c", "model": "c-model"}, {"provider": "a", "model": "a-model"}]
    await api(http, running.server, "PUT", "/api/chains/default", {"entries": entries})
    await api(http, running.server, "PATCH", "/api/settings", {"queueMode": True})
    await api(http, running.server, "DELETE", "/api/providers/b")
    expected = config_text(url).split("\n")
    assert running.text().split("\n") == [
        *expected[:10],
        "  queueMode: true",
        *expected[10:18],
        "    timeout: 7000",
        "  - id: c",
        "    type: generic-openai",
        "    apiKey: sk-test-c-key-000000cccc",
        f"    baseUrl: {url}",
        "",
        "chains:",
        "  - name: default",
        "    entries:",
        "      - provider: c",
        "        model: c-model",
        "      - {provider: a, model: a-model}",
        "",
    ]
    assert expected[16] == f"    apiKey: ${{{KEY_VARIABLE}}}  # never written out"
    assert running.path.stat().st_mode & 0o777 == 0o600, "a key entered through the API"


# reload


async def test_reload_applies_the_file_and_a_broken_file_keeps_the_running_config(
    running, http
) -> None:
    running.path.write_text(
        running.text().replace("requestTimeoutMs: 5000", "requestTimeoutMs: 6000")
    )
    answer = await api(http, running.server, "POST", "/api/config/reload")
    assert answer.status == 200, answer.body
    assert answer.json()["settings"]["requestTimeoutMs"] == 6000
    assert answer.json()["restartRequired"] == []
    before = await version(http, running)
    running.path.write_text(running.text().replace("model: b-model", "model: ''"))
    broken = await api(http, running.server, "POST", "/api/config/reload")
    assert (broken.status, broken.error["code"]) == (422, "invalid_config")
    assert broken.error["param"] == "chains[0].entries[1].model"
    assert "the running configuration stays" in broken.error["message"]
    assert await version(http, running) == before
    stale = await api(http, running.server, "POST", "/api/config/reload", if_match='"old"')
    assert stale.status == 412


# where nothing can be written


async def test_a_proxy_without_a_config_file_refuses_writes_saying_why(
    upstream_factory, proxy_factory, http
) -> None:
    upstream = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", upstream.base_url)], admin=True))
    for method, path, body in [
        ("PATCH", "/api/settings", {"queueMode": True}),
        ("DELETE", "/api/chains/x", None),
        ("POST", "/api/config/reload", None),
        ("DELETE", "/v1/admin/chains/x", None),
    ]:
        answer = await api(http, server, method, path, body)
        assert answer.status == 409, (path, answer.body)
        assert "not a file" in answer.body.decode()


async def test_a_read_only_config_file_makes_every_write_a_409(
    upstream_factory, proxy_factory, http, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, A_KEY)
    upstream = await upstream_factory(ok())
    path = write_config(tmp_path, upstream.base_url)

    def read_only(_path: Path) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(_path))

    options = AppOptions(config_files=replace(LOCAL_FILES, probe=read_only))
    server = await start_file_proxy(proxy_factory, path, options)
    answer = await api(http, server, "PATCH", "/api/settings", {"queueMode": True})
    assert (answer.status, answer.error["code"]) == (409, "config_read_only")
    assert "read-only" in answer.error["message"] and ":ro" in answer.error["message"]


async def test_a_failed_write_is_a_500_and_changes_nothing(
    upstream_factory, proxy_factory, http, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, A_KEY)
    upstream = await upstream_factory(ok())
    path = write_config(tmp_path, upstream.base_url)

    def disk_full(_fd: int, _data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    options = AppOptions(config_files=replace(LOCAL_FILES, write=disk_full))
    server = await start_file_proxy(proxy_factory, path, options)
    answer = await api(http, server, "PATCH", "/api/settings", {"queueMode": True})
    assert (answer.status, answer.error["code"]) == (500, "config_write_failed")
    assert "No space left" in answer.error["message"]
    assert path.read_text() == config_text(upstream.base_url)
    original = await api(
        http, server, "PUT", "/v1/admin/chains/x", {"entries": [{"provider": "a", "model": "m"}]}
    )
    assert original.status == 500
    assert original.json()["error"].startswith("Failed to persist config: ")


# events


async def test_a_write_publishes_a_config_event(running, http) -> None:
    async with event_stream(http, running.server.url, "?kinds=config", key=ADMIN_KEY) as stream:
        await api(http, running.server, "PATCH", "/api/settings", {"queueMode": True})
        event, _ = await stream.until(lambda e: e.name == "config")
    assert event.data["settings"] == ["queueMode"]


# no key in any answer


async def test_no_answer_of_a_write_holds_a_key(running, http) -> None:
    answers = [
        await api(
            http,
            running.server,
            "PUT",
            "/api/providers/a",
            {"type": "generic-openai", "baseUrl": running.upstream.base_url},
        ),
        await api(http, running.server, "POST", "/api/config/reload"),
        await api(http, running.server, "PATCH", "/api/settings", {"apiKeys": [CLIENT_KEY]}),
        await api(
            http,
            running.server,
            "PUT",
            "/v1/admin/providers/b",
            {
                "id": "b",
                "type": "generic-openai",
                "apiKey": "***",
                "baseUrl": running.upstream.base_url,
            },
        ),
    ]
    for answer in answers:
        assert answer.status == 200, answer.body
        for key in (A_KEY, B_KEY, CLIENT_KEY, ADMIN_KEY):
            assert key.encode() not in answer.body
    assert f"apiKey: {B_KEY}\n" in running.text(), "the original's mask kept the key"
