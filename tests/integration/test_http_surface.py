"""The proxy's HTTP surface: health, models, unknown routes, body limits, model resolution and
the legacy completions endpoint."""

from __future__ import annotations

import os

import openai
import pytest

from chain429 import __version__
from tests.support.client import MESSAGES, chat, chat_body, send
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.upstream import ok, reply, sse, text_completion, text_events


async def test_health_needs_no_auth(upstream_factory, proxy_factory, http):
    up = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", up.base_url), ("b", up.base_url)]))
    answer = await send(http, server, "/health", method="GET", key=None)
    assert answer.status == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert isinstance(body["uptimeSeconds"], int | float) and body["uptimeSeconds"] >= 0
    assert body["providers"] == 2 and body["chains"] == 1
    assert body["defaultChain"] == "default"
    assert body["pid"] == os.getpid(), "the process that answered (a worker of several)"


async def test_models_lists_chains_first_then_entries(
    upstream_factory, proxy_factory, client_factory
):
    up = await upstream_factory(ok())
    config = make_config(
        [("a", up.base_url), ("b", up.base_url)],
        chain=[("a", "m1"), ("b", "m2")],
        extra_chains={"fast": [("b", "m2"), ("a", "m3")]},
    )
    server = await proxy_factory(config)
    client = client_factory(server)
    models = [m async for m in client.models.list()]
    assert [m.id for m in models] == ["default", "fast", "a/m1", "b/m2", "a/m3"]
    assert all(m.object == "model" for m in models)
    assert models[0].owned_by == "429chain" and models[3].owned_by == "b"


async def test_models_retrieve_finds_chains_and_entries(
    upstream_factory, proxy_factory, client_factory, http
):
    up = await upstream_factory(ok())
    config = make_config(
        [("a", up.base_url), ("b", up.base_url)],
        chain=[("a", "m1"), ("b", "org/m2:free")],
        extra_chains={"fast": [("b", "org/m2:free")]},
    )
    server = await proxy_factory(config)
    client = client_factory(server)
    listed = {m.id: m async for m in client.models.list()}
    for model_id in ("default", "fast", "a/m1", "b/org/m2:free"):
        model = await client.models.retrieve(model_id)
        assert model == listed[model_id]
    raw = await send(http, server, "/v1/models/b/org/m2:free", method="GET")
    assert raw.status == 200
    assert raw.json() == listed["b/org/m2:free"].model_dump(exclude_unset=True)
    assert raw.json()["owned_by"] == "b"


@pytest.mark.parametrize("model_id", ["gpt-4o", "a/not-configured", "c/m1", "default/x"])
async def test_models_retrieve_of_anything_else_is_model_not_found(
    upstream_factory, proxy_factory, client_factory, model_id
):
    up = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", up.base_url)], chain=[("a", "m1")]))
    client = client_factory(server)
    with pytest.raises(openai.NotFoundError) as caught:
        await client.models.retrieve(model_id)
    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"
    assert model_id in caught.value.message


async def test_models_retrieve_needs_auth(upstream_factory, proxy_factory, http):
    up = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    answer = await send(http, server, "/v1/models/default", method="GET", key=None)
    assert answer.status == 401


async def test_models_needs_auth(upstream_factory, proxy_factory, http):
    up = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    answer = await send(http, server, "/v1/models", method="GET", key=None)
    assert answer.status == 401
    assert answer.error["type"] == "authentication_error"


@pytest.mark.parametrize(
    ("method", "path", "key", "status"),
    [
        ("GET", "/v1/nope", "client", 404),
        ("POST", "/v1/embeddings", "client", 404),
        ("GET", "/health/nope", None, 404),  # other paths are the dashboard's pages
        ("GET", "/metrics/nope", None, 404),
        ("GET", "/v1/chat/completions", "client", 405),
        ("GET", "/v1/nope", None, 401),
    ],
)
async def test_unknown_routes_are_openai_shaped(
    upstream_factory, proxy_factory, http, method, path, key, status
):
    up = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    answer = await send(
        http, server, path, method=method, key=CLIENT_KEY if key else None, body=b""
    )
    assert answer.status == status
    assert answer.headers["Content-Type"].startswith("application/json")
    error = answer.error
    if status == 404:
        assert path in error["message"]
        assert error["code"] == "unknown_url"


async def test_unknown_route_with_the_sdk_is_not_found(
    upstream_factory, proxy_factory, client_factory
):
    up = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    with pytest.raises(openai.NotFoundError):
        await client.embeddings.create(model="default", input="x")


async def test_body_over_the_limit_is_413(upstream_factory, proxy_factory, http):
    up = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", up.base_url)], settings={"maxBodyBytes": 2048}))
    big = chat_body(messages=[{"role": "user", "content": "x" * 4096}])
    answer = await send(http, server, "/v1/chat/completions", big)
    assert answer.status == 413
    assert answer.error["code"] == "request_too_large"
    assert "maxBodyBytes" in answer.error["message"]
    assert up.calls == 0
    small = await send(http, server, "/v1/chat/completions", chat_body())
    assert small.status == 200


async def test_provider_slash_model_addresses_one_entry(upstream_factory, proxy_factory, http):
    a = await upstream_factory(ok())
    b = await upstream_factory(ok("from b"))
    server = await proxy_factory(make_config([("a", a.base_url), ("b", b.base_url)]))
    answer = await chat(http, server, model="b/org/some-model:free")
    assert answer.status == 200
    assert answer.headers["X-429chain-Provider"].partition("/")[0] == "b"
    assert b.received[0]["model"] == "org/some-model:free"
    assert a.calls == 0


async def test_direct_address_fails_alone_without_falling_back(
    upstream_factory, proxy_factory, http
):
    a = await upstream_factory(ok())
    b = await upstream_factory(reply(429, {"error": {"message": "busy"}}, {"retry-after": "9"}))
    server = await proxy_factory(make_config([("a", a.base_url), ("b", b.base_url)]))
    answer = await chat(http, server, model="b/x")
    assert answer.status == 429
    assert "b/x" in answer.error["message"]
    assert a.calls == 0


async def test_slash_model_of_an_unknown_provider_uses_the_default_chain(
    upstream_factory, proxy_factory, http
):
    a = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", a.base_url)]))
    answer = await chat(http, server, model="meta-llama/llama-3.1-8b")
    assert answer.status == 200
    assert a.received[0]["model"] == "a-model"


@pytest.mark.parametrize("model", ["gpt-4o-mini", None])
async def test_unknown_or_missing_model_uses_the_default_chain(
    upstream_factory, proxy_factory, http, model
):
    a = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", a.base_url)]))
    body = chat_body(model=model)
    if model is None:
        del body["model"]
    answer = await send(http, server, "/v1/chat/completions", body)
    assert answer.status == 200
    assert a.received[0]["model"] == "a-model"
    assert answer.json()["model"] == "fake-model", "the upstream's model is reported untouched"


async def test_a_chain_name_selects_that_chain(upstream_factory, proxy_factory, http):
    a = await upstream_factory(ok())
    b = await upstream_factory(ok())
    config = make_config(
        [("a", a.base_url), ("b", b.base_url)], extra_chains={"fast": [("b", "quick")]}
    )
    server = await proxy_factory(config)
    answer = await chat(http, server, model="fast")
    assert answer.headers["X-429chain-Provider"].partition("/")[0] == "b"
    assert b.received[0]["model"] == "quick"


async def test_strict_models_rejects_unknown_models(
    upstream_factory, proxy_factory, client_factory
):
    a = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", a.base_url)], settings={"strictModels": True}))
    client = client_factory(server)
    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert caught.value.code == "model_not_found"
    assert "gpt-4o" in caught.value.message
    assert a.calls == 0
    served = await client.chat.completions.create(model="default", messages=MESSAGES)
    assert served.choices[0].message.content == "hello"
    direct = await client.chat.completions.create(model="a/other", messages=MESSAGES)
    assert direct.choices[0].message.content == "hello"


async def test_strict_models_makes_a_missing_model_a_400_naming_it(
    upstream_factory, proxy_factory, client_factory, http
):
    a = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", a.base_url)], settings={"strictModels": True}))
    client = client_factory(server)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=openai.omit, messages=MESSAGES)
    assert caught.value.param == "model"
    assert "'model' is required" in caught.value.message
    assert "strictModels" in caught.value.message
    for body in ({"prompt": "x"}, {"model": "", "prompt": "x"}):
        answer = await send(http, server, "/v1/completions", body)
        assert answer.status == 400
        assert answer.error["param"] == "model"
    assert a.calls == 0


async def test_without_strict_models_a_missing_model_goes_to_the_default_chain(
    upstream_factory, proxy_factory, client_factory
):
    a = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", a.base_url)]))
    client = client_factory(server)
    raw = await client.chat.completions.with_raw_response.create(
        model=openai.omit, messages=MESSAGES
    )
    assert raw.parse().choices[0].message.content == "hello"
    assert raw.headers["x-429chain-provider"] == "a/a-model"


async def test_legacy_completions_non_stream(upstream_factory, proxy_factory, client_factory):
    up = await upstream_factory(reply(body=text_completion("legacy")))
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    result = await client.completions.create(
        model="default", prompt=["say", "it"], max_tokens=5, echo=False
    )
    assert result.choices[0].text == "legacy"
    assert up.received[0] == {
        "model": "a-model",
        "prompt": ["say", "it"],
        "max_tokens": 5,
        "echo": False,
    }


async def test_legacy_completions_stream(upstream_factory, proxy_factory, client_factory):
    up = await upstream_factory(sse(text_events(["leg", "acy"])))
    server = await proxy_factory(make_config([("a", up.base_url)]))
    client = client_factory(server)
    stream = await client.completions.create(model="default", prompt="say", stream=True)
    chunks = [c async for c in stream]
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "legacy"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert up.received[0]["stream_options"] == {"include_usage": True}


async def test_legacy_completions_waterfall(upstream_factory, proxy_factory, http):
    a = await upstream_factory(reply(503, {"error": {"message": "down"}}))
    b = await upstream_factory(reply(body=text_completion("from b")))
    server = await proxy_factory(make_config([("a", a.base_url), ("b", b.base_url)]))
    answer = await send(http, server, "/v1/completions", {"model": "default", "prompt": "x"})
    assert answer.status == 200
    assert answer.headers["X-429chain-Provider"].partition("/")[0] == "b"
    assert answer.json()["choices"][0]["text"] == "from b"


@pytest.mark.parametrize(
    ("body", "says"),
    [({"model": "default"}, "'prompt' is required"), ({"prompt": 5}, "'prompt' must be")],
)
async def test_legacy_completions_bad_bodies(upstream_factory, proxy_factory, http, body, says):
    a = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", a.base_url)]))
    answer = await send(http, server, "/v1/completions", body)
    assert answer.status == 400
    assert says in answer.error["message"]
    assert a.calls == 0


async def test_request_id_header_on_every_completion(upstream_factory, proxy_factory, http):
    a = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", a.base_url)]))
    first = await chat(http, server)
    second = await chat(http, server, stream=True)
    ids = {first.headers["X-Request-Id"], second.headers["X-Request-Id"]}
    assert len(ids) == 2
