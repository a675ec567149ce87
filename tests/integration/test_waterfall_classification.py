"""Each row of the classification table, against real fault-injecting upstreams on loopback.

The chain is `a` then `b`; `a` misbehaves, `b` serves. A FakeClock moves time where a row's
cooldown must be seen to end.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pytest

from chain429.app import AppOptions
from chain429.server import RunningServer
from tests.support.client import Answer, chat
from tests.support.clock import FakeClock
from tests.support.proxy import PROVIDER_KEY, make_config
from tests.support.upstream import (
    Behaviour,
    FakeUpstream,
    chunk,
    closed_port_url,
    cut_body,
    hang,
    ok,
    reply,
    sse,
    standard_events,
)

PENALTY_S = 5


@dataclass
class Rig:
    a: FakeUpstream
    b: FakeUpstream
    server: RunningServer
    clock: FakeClock


@pytest.fixture
def rig(upstream_factory, proxy_factory):
    async def make(*script: Behaviour, a_url: str | None = None, **settings: object) -> Rig:
        a = await upstream_factory(*script)
        b = await upstream_factory(ok())
        config = make_config(
            [("a", a_url or a.base_url), ("b", b.base_url)],
            settings={"failurePenaltyMs": PENALTY_S * 1000, **settings},
            provider_extra={"a": {"timeout": 300}},
        )
        clock = FakeClock()
        server = await proxy_factory(config, AppOptions(clock=clock))
        return Rig(a, b, server, clock)

    return make


def served_by(answer: Answer, provider: str, attempts: int) -> None:
    assert answer.status == 200, answer.body
    assert answer.headers["X-429chain-Provider"].partition("/")[0] == provider
    assert answer.headers["X-429chain-Attempts"] == str(attempts)


def error(status: int, message: str = "nope", **headers: str) -> Behaviour:
    return reply(status, {"error": {"message": message, "type": "x"}}, headers=headers)


async def test_429_cools_down_and_the_next_request_skips_the_entry(rig, http):
    r = await rig(error(429, "rate limited", **{"retry-after": "20"}), reply())
    served_by(await chat(http, r.server), "b", 2)
    assert r.a.calls == 1
    answer = await chat(http, r.server)
    served_by(answer, "b", 2)
    assert r.a.calls == 1, "the cooling entry is skipped without a call"
    r.clock.advance(19)
    served_by(await chat(http, r.server), "b", 2)
    assert r.a.calls == 1
    r.clock.advance(1)
    served_by(await chat(http, r.server), "a", 1)
    assert r.a.calls == 2


async def test_402_benches_the_key_for_long(rig, http):
    r = await rig(error(402, "negative balance"), reply())
    served_by(await chat(http, r.server), "b", 2)
    r.clock.advance(3599)
    served_by(await chat(http, r.server), "b", 2)
    assert r.a.calls == 1
    r.clock.advance(1)
    served_by(await chat(http, r.server), "a", 1)


@pytest.mark.parametrize("status", [401, 403])
async def test_401_403_set_the_key_aside_for_every_model(
    upstream_factory, proxy_factory, http, status
):
    a = await upstream_factory(error(status, "invalid api key"))
    b = await upstream_factory(reply())
    config = make_config(
        [("a", a.base_url), ("b", b.base_url)],
        chain=[("a", "m1"), ("a", "m2"), ("b", "m3")],
    )
    clock = FakeClock()
    server = await proxy_factory(config, AppOptions(clock=clock))
    served_by(await chat(http, server), "b", 3)
    assert [body["model"] for body in a.received] == ["m1"], "m2 shares the bad key"
    clock.advance(7 * 86_400)
    served_by(await chat(http, server), "b", 3)
    assert a.calls == 1, "a rejected key stays aside until the configuration changes"


async def test_404_sets_only_that_entry_aside(upstream_factory, proxy_factory, http):
    a = await upstream_factory(error(404, "model not found"), reply())
    config = make_config([("a", a.base_url)], chain=[("a", "gone"), ("a", "here")])
    clock = FakeClock()
    server = await proxy_factory(config, AppOptions(clock=clock))
    served_by(await chat(http, server), "a", 2)
    clock.advance(7 * 86_400)
    served_by(await chat(http, server), "a", 2)
    assert [body["model"] for body in a.received] == ["gone", "here", "here"]


async def test_an_entry_set_aside_alone_gives_502(upstream_factory, proxy_factory, http):
    a = await upstream_factory(error(401, "bad key"))
    server = await proxy_factory(make_config([("a", a.base_url)]))
    first = await chat(http, server)
    second = await chat(http, server)
    for answer in (first, second):
        assert answer.status == 502
        assert answer.error["code"] == "no_usable_entry"
        assert "Retry-After" not in answer.headers
    assert "key" in second.error["message"]
    assert a.calls == 1


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504, 529])
async def test_server_errors_move_on_with_a_short_penalty(rig, http, status):
    r = await rig(error(status, "upstream trouble"), reply())
    served_by(await chat(http, r.server), "b", 2)
    served_by(await chat(http, r.server), "b", 2)
    assert r.a.calls == 1
    r.clock.advance(PENALTY_S)
    served_by(await chat(http, r.server), "a", 1)


async def test_connection_refused_moves_on(rig, http):
    r = await rig(reply(), a_url=closed_port_url())
    served_by(await chat(http, r.server), "b", 2)
    served_by(await chat(http, r.server, stream=True), "b", 2)


@pytest.mark.parametrize("stream", [False, True])
async def test_timeout_before_the_first_byte_moves_on(rig, http, stream):
    r = await rig(hang())
    answer = await chat(http, r.server, stream=stream)
    served_by(answer, "b", 2)
    assert r.a.calls == 1
    await r.a.disconnected.wait()


async def test_stream_that_sends_only_empty_events_then_hangs_times_out(rig, http):
    empty = orjson.dumps(chunk({}))
    r = await rig(sse([empty, empty, *standard_events()], hang_after=2))
    served_by(await chat(http, r.server, stream=True), "b", 2)


@pytest.mark.parametrize(
    "behaviour",
    [
        reply(raw=b"<html><body>Bad gateway</body></html>", content_type="text/html"),
        reply(raw=b'{"truncated": ', content_type="application/json"),
        reply(raw=b"[1, 2, 3]"),
        reply(body={"id": "x", "object": "chat.completion"}),
    ],
    ids=["html", "truncated-json", "not-an-object", "no-choices"],
)
async def test_garbage_200_body_moves_on(rig, http, behaviour):
    r = await rig(behaviour, reply())
    served_by(await chat(http, r.server), "b", 2)
    served_by(await chat(http, r.server), "b", 2)
    assert r.a.calls == 1, "garbage costs a short penalty"


@pytest.mark.parametrize(
    "events",
    [
        [b"<html>oops</html>"],
        [b"[DONE]"],
        [orjson.dumps(chunk({}))],
    ],
    ids=["garbage-event", "done-before-content", "ends-without-content"],
)
async def test_stream_without_content_moves_on(rig, http, events):
    r = await rig(sse(events))
    answer = await chat(http, r.server, stream=True)
    served_by(answer, "b", 2)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in answer.chunks())
    assert text == "hello"


async def test_in_band_error_in_a_200_body_moves_on(rig, http):
    body = {"error": {"message": "provider overloaded", "code": 502}}
    r = await rig(reply(body=body), reply())
    served_by(await chat(http, r.server), "b", 2)
    served_by(await chat(http, r.server), "b", 2)
    assert r.a.calls == 1


async def test_in_band_error_as_the_first_event_moves_on(rig, http):
    events = [orjson.dumps({"error": {"message": "quota exceeded", "code": 429}}), b"[DONE]"]
    r = await rig(sse(events))
    answer = await chat(http, r.server, stream=True)
    served_by(answer, "b", 2)
    assert all("error" not in c for c in answer.chunks())


async def test_in_band_error_after_empty_events_still_moves_on(rig, http):
    events = [
        orjson.dumps(chunk({})),
        orjson.dumps({"error": {"message": "quota exceeded"}}),
    ]
    r = await rig(sse(events, prefix=b": OPENROUTER PROCESSING\n\n"))
    served_by(await chat(http, r.server, stream=True), "b", 2)


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_other_4xx_moves_on_without_a_cooldown(rig, http, status):
    r = await rig(error(status, "context too long for this model"))
    served_by(await chat(http, r.server), "b", 2)
    served_by(await chat(http, r.server), "b", 2)
    assert r.a.calls == 2, "a rejection says nothing about the entry's health"


@pytest.mark.parametrize("stream", [False, True])
async def test_when_every_entry_rejects_the_first_rejection_is_returned(
    upstream_factory, proxy_factory, http, stream
):
    echo = f"unsupported parameter 'logit_bias' (key {PROVIDER_KEY})"
    a = await upstream_factory(
        reply(422, {"error": {"message": echo, "type": "invalid_request_error", "code": "bad"}})
    )
    b = await upstream_factory(error(400, "something else"))
    server = await proxy_factory(make_config([("a", a.base_url), ("b", b.base_url)]))
    answer = await chat(http, server, stream=stream)
    assert answer.status == 422
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["X-429chain-Attempts"] == "2"
    assert "Retry-After" not in answer.headers
    message = answer.error["message"]
    assert "unsupported parameter 'logit_bias'" in message
    assert answer.error["code"] == "bad"
    assert PROVIDER_KEY not in message and PROVIDER_KEY[-8:] not in message
    assert "something else" not in message
    assert (a.calls, b.calls) == (1, 1)


async def test_provider_key_is_never_in_an_all_failed_answer(upstream_factory, proxy_factory, http):
    a = await upstream_factory(
        reply(429, {"error": {"message": f"limit for key {PROVIDER_KEY} at http://x.test/v1"}})
    )
    b = await upstream_factory(error(503, f"Bearer {PROVIDER_KEY}"))
    server = await proxy_factory(make_config([("a", a.base_url), ("b", b.base_url)]))
    answer = await chat(http, server)
    assert answer.status == 429
    assert PROVIDER_KEY[-8:] not in answer.body.decode()
    assert "x.test" not in answer.body.decode()
    assert "127.0.0.1" not in answer.body.decode()


@pytest.mark.parametrize("status", [429, 402, 401, 404, 500, 400])
async def test_stream_requests_classify_statuses_the_same_way(rig, http, status):
    r = await rig(error(status, "no"))
    answer = await chat(http, r.server, stream=True)
    served_by(answer, "b", 2)
    assert answer.headers["Content-Type"] == "text/event-stream"


async def test_connection_dropped_before_any_event_moves_on(rig, http):
    r = await rig(sse(drop_after=0))
    served_by(await chat(http, r.server, stream=True), "b", 2)


async def test_body_cut_short_moves_on(rig, http):
    r = await rig(cut_body())
    served_by(await chat(http, r.server), "b", 2)


async def test_keepalives_without_content_time_out_before_commit(rig, http):
    """Comments and empty chunks keep the socket busy, but the entry must still produce content
    within its timeout (300 ms here) or the waterfall moves on."""
    empty = orjson.dumps(chunk({}))
    r = await rig(
        sse([empty] * 200 + standard_events(), keepalive=b": PROCESSING\n\n", delay_s=0.01)
    )
    served_by(await chat(http, r.server, stream=True), "b", 2)
    await r.a.disconnected.wait()


async def test_json_error_answer_to_a_stream_request_moves_on(rig, http):
    r = await rig(reply(body={"error": {"message": "model overloaded"}}))
    answer = await chat(http, r.server, stream=True)
    served_by(answer, "b", 2)


async def test_sse_content_type_with_parameters_is_a_stream(rig, http):
    r = await rig(sse(headers={"Content-Type": "text/event-stream; charset=utf-8"}))
    answer = await chat(http, r.server, stream=True)
    served_by(answer, "a", 1)
    assert answer.events()[-1] == b"[DONE]"
