"""`POST /api/test/chain/{name}` probes every entry through admission (skipped when it cannot
serve, unless forced), and `POST /v1/test/chain/{name}` answers the same probes in the original
429chain's shape."""

from __future__ import annotations

import pytest

from chain429.app import AppOptions
from tests.support.client import send
from tests.support.clock import FakeClock
from tests.support.proxy import ADMIN_KEY, PROVIDER_KEY, make_config
from tests.support.upstream import completion, ok, reply
from tests.support.usage_records import MemorySink

START = 1_800_000_000.0
LIMITED = {"error": {"message": "slow down", "type": "rate_limit", "code": "rate_limited"}}


def limited(retry_after_s: int):
    return reply(429, LIMITED, {"retry-after": str(retry_after_s)})


@pytest.fixture
async def start(upstream_factory, proxy_factory):
    """Upstreams `a` and `b` (each with its script) behind a proxy on a fake clock; the
    default chain is a then b."""

    async def started(a, b=None):
        upstreams = {"a": await upstream_factory(*a), "b": await upstream_factory(*(b or [ok()]))}
        sink, clock = MemorySink(), FakeClock(START)
        urls = [(name, u.base_url) for name, u in upstreams.items()]
        server = await proxy_factory(
            make_config(urls, admin=True), AppOptions(clock=clock, sink=sink)
        )
        return server, upstreams, sink

    return started


async def test_every_entry_is_probed_with_its_answer(start, http):
    server, upstreams, sink = await start([ok("Hi from a")], [ok("x" * 300)])

    answer = await send(http, server, "/api/test/chain/default", {}, key=ADMIN_KEY)

    assert answer.status == 200
    body = answer.json()
    assert body["chain"] == "default"
    assert body["summary"] == {"total": 2, "ok": 2, "failed": 0, "skipped": 0}
    first, second = body["results"]
    assert first["position"] == 0 and (first["provider"], first["model"]) == ("a", "a-model")
    assert (first["status"], first["outcome"], first["httpStatus"]) == ("ok", "served", 200)
    assert first["response"] == "Hi from a"
    assert first["tokens"] == {"prompt": 5, "completion": 1, "total": 6}
    assert first["keyLabel"] == "…3456" and first["latencyMs"] >= 0
    assert first["error"] is None and first["forced"] is False
    assert first["raw"]["choices"][0]["message"]["content"] == "Hi from a"
    assert second["response"] == "x" * 200
    for upstream in upstreams.values():
        (sent,) = upstream.received
        assert sent["messages"] == [{"role": "user", "content": "Say hello in one word."}]
        assert (sent["max_tokens"], sent["stream"]) == (50, False)
    assert [(r.chain, r.requested_model, r.status) for r in sink.records] == [
        ("default", "a/a-model", 200),
        ("default", "b/b-model", 200),
    ]
    assert all(r.request_id.startswith("test_") for r in sink.records)


async def test_a_failing_entry_is_reported_and_the_next_still_probed(start, http):
    server, upstreams, sink = await start(
        [reply(500, {"error": {"message": f"boom, key {PROVIDER_KEY}"}})]
    )

    answer = await send(
        http, server, "/api/test/chain/default", {"prompt": "Ping", "maxTokens": 5}, key=ADMIN_KEY
    )
    body = answer.json()

    failed, served = body["results"]
    assert (failed["status"], failed["outcome"], failed["httpStatus"]) == (
        "error",
        "server_error",
        500,
    )
    assert "boom" in failed["error"] and PROVIDER_KEY[-8:].encode() not in answer.body
    assert failed["response"] is None and failed["tokens"] is None
    assert served["status"] == "ok"
    assert body["summary"] == {"total": 2, "ok": 1, "failed": 1, "skipped": 0}
    assert upstreams["b"].received[0]["max_tokens"] == 5
    assert upstreams["b"].received[0]["messages"][0]["content"] == "Ping"
    assert [r.status for r in sink.records] == [503, 200]


async def test_an_exhausted_entry_is_skipped_until_forced_and_the_forced_answer_teaches(
    start, http
):
    server, upstreams, sink = await start([limited(60), limited(120), ok()])
    await send(
        http, server, "/api/test/chain/default", {}, key=ADMIN_KEY
    )  # a answers 429: 60 s cooldown

    skipped = (await send(http, server, "/api/test/chain/default", {}, key=ADMIN_KEY)).json()

    entry = skipped["results"][0]
    assert entry["status"] == "skipped"
    assert (entry["skipReason"], entry["outcome"], entry["forced"]) == (
        "cooling_down",
        "skipped",
        False,
    )
    assert "slow down" in entry["reason"]
    assert entry["availableInMs"] == 60_000
    assert entry["availableAt"] == "2027-01-15T08:01:00.000Z"
    assert entry["latencyMs"] is None and entry["keyLabel"] is None
    assert skipped["summary"] == {"total": 2, "ok": 1, "failed": 0, "skipped": 1}
    assert upstreams["a"].calls == 1
    records = len(sink.records)

    forced = (
        await send(http, server, "/api/test/chain/default", {"force": True}, key=ADMIN_KEY)
    ).json()

    entry = forced["results"][0]
    assert (entry["status"], entry["forced"], entry["httpStatus"]) == ("error", True, 429)
    assert upstreams["a"].calls == 2
    assert forced["results"][1]["forced"] is False  # b was free: an ordinary probe
    assert len(sink.records) == records + 2

    later = (await send(http, server, "/api/test/chain/default", {}, key=ADMIN_KEY)).json()
    assert later["results"][0]["availableInMs"] == 120_000  # learned from the forced answer


async def test_a_forced_probe_of_a_free_entry_is_an_ordinary_probe(start, http):
    server, upstreams, _ = await start([ok()])

    body = (
        await send(http, server, "/api/test/chain/default", {"force": True}, key=ADMIN_KEY)
    ).json()

    assert [r["forced"] for r in body["results"]] == [False, False]
    assert upstreams["a"].calls == 1


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "param"),
    [
        ("/api/test/chain/nope", {}, 404, "chain_not_found", None),
        ("/api/test/chain/default", {"maxTokens": 0}, 422, "invalid_body", "maxTokens"),
        ("/api/test/chain/default", {"prompt": ""}, 422, "invalid_body", "prompt"),
        ("/api/test/chain/default", {"force": "maybe"}, 422, "invalid_body", "force"),
        ("/api/test/chain/default", {"stream": True}, 422, "invalid_body", "stream"),
        ("/api/test/chain/default", b"[", 400, "invalid_json", None),
    ],
)
async def test_bad_probe_requests_call_nothing(start, http, path, body, status, code, param):
    server, upstreams, _ = await start([ok()])

    answer = await send(http, server, path, body, key=ADMIN_KEY)

    assert answer.status == status
    assert (answer.error["code"], answer.error["param"]) == (code, param)
    assert upstreams["a"].calls == 0


async def test_an_empty_body_takes_the_defaults(start, http):
    server, upstreams, _ = await start([ok()])

    answer = await send(http, server, "/api/test/chain/default", b"", key=ADMIN_KEY)

    assert answer.status == 200
    assert upstreams["a"].received[0]["max_tokens"] == 50


async def test_the_original_route_answers_in_the_original_shape(start, http):
    server, _, _ = await start([ok("Hello")], [reply(503, {"error": {"message": "overloaded"}})])

    answer = await send(http, server, "/v1/test/chain/default", {"prompt": "Hi"}, key=ADMIN_KEY)

    assert answer.status == 200
    body = answer.json()
    first, second = body["results"]
    assert set(first) == {"provider", "model", "status", "latencyMs", "response", "tokens", "raw"}
    assert (first["provider"], first["model"], first["status"]) == ("a", "a-model", "ok")
    assert isinstance(first["latencyMs"], int)
    assert first["response"] == "Hello"
    assert first["tokens"] == {"prompt": 5, "completion": 1, "total": 6}
    assert first["raw"] == completion("Hello")
    assert set(second) == {"provider", "model", "status", "latencyMs", "error", "raw"}
    assert second["status"] == "error" and "overloaded" in second["error"]
    assert body == {
        "chain": "default",
        "results": [first, second],
        "summary": {"total": 2, "ok": 1, "failed": 1},
    }


async def test_the_original_route_ignores_the_limit_state_as_the_original_did(start, http):
    server, upstreams, _ = await start([limited(60), ok("back")])
    await send(http, server, "/api/test/chain/default", {}, key=ADMIN_KEY)  # a now cools down

    body = (await send(http, server, "/v1/test/chain/default", None, key=ADMIN_KEY)).json()

    assert upstreams["a"].calls == 2
    assert body["results"][0]["status"] == "ok" and body["results"][0]["response"] == "back"
    assert upstreams["a"].received[1]["messages"][0]["content"] == "Say hello in one word."


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/v1/test/chain/nope", {}, 404, 'Chain "nope" not found'),
        ("/v1/test/chain/default", b"{", 400, None),
        ("/v1/test/chain/default", {"prompt": 5}, 400, None),
    ],
)
async def test_the_original_routes_errors_are_plain_strings(start, http, path, body, status, error):
    server, upstreams, _ = await start([ok()])

    answer = await send(http, server, path, body, key=ADMIN_KEY)

    assert answer.status == status
    assert set(answer.json()) == {"error"} and isinstance(answer.json()["error"], str)
    if error is not None:
        assert answer.json()["error"] == error
    assert upstreams["a"].calls == 0


async def test_the_original_route_ignores_fields_it_does_not_know(start, http):
    server, upstreams, _ = await start([ok()])

    answer = await send(
        http, server, "/v1/test/chain/default", {"prompt": "Yo", "extra": 1}, key=ADMIN_KEY
    )

    assert answer.status == 200
    assert upstreams["a"].received[0]["messages"][0]["content"] == "Yo"
