"""One attempt at one entry through a scripted upstream: what is sent, how a plain call ends,
a stream held until its commit point (the first event with content), never further, and the
upstream's words made safe where they enter (no key, no URL, a short line)."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from chain429.errors import UpstreamConnectError, UpstreamProtocolError, UpstreamTimeoutError
from chain429.limits.state import Reservation
from chain429.outcome import Outcome
from chain429.redaction import Redactor
from chain429.router.attempt import (
    MAX_REASON_CHARS,
    Attempter,
    AttemptResult,
    Commit,
    upstream_body,
)
from chain429.router.plan import ProviderPlan, build_plans
from tests.support.clock import FakeClock
from tests.support.fake_router_io import (
    HANG,
    ScriptedResponse,
    ScriptedUpstream,
    client_request,
    error_response,
    json_response,
    sse_response,
)
from tests.support.proxy import PROVIDER_KEY, make_config
from tests.support.upstream import chunk, completion

CLOCK = FakeClock()
REDACTOR = Redactor([PROVIDER_KEY])
PLAN = build_plans(make_config([("a", "http://a.test/v1")]))["a"]
RESERVATION = Reservation("a", 0, "…3456", PROVIDER_KEY, "upstream-model")
EMPTY = chunk({})
CONTENT = chunk({"role": "assistant", "content": "Hi"})


async def call(*script, plan: ProviderPlan = PLAN, **request) -> AttemptResult:
    upstream = ScriptedUpstream(*script)
    return await Attempter(upstream, REDACTOR, CLOCK.now).call(
        plan, RESERVATION, client_request(**request)
    )


async def open_stream(upstream: ScriptedUpstream, **request) -> AttemptResult | Commit:
    attempter = Attempter(upstream, REDACTOR, CLOCK.now)
    return await attempter.open_stream(PLAN, RESERVATION, client_request(stream=True, **request))


async def test_a_call_sends_the_body_with_the_entrys_model_to_the_entrys_url_with_its_key() -> None:
    upstream = ScriptedUpstream(json_response())
    request = client_request(temperature=0.2)
    await Attempter(upstream, REDACTOR, CLOCK.now).call(PLAN, RESERVATION, request)

    (sent,) = upstream.sent
    assert sent.url == "http://a.test/v1/chat/completions"
    assert sent.key == PROVIDER_KEY
    assert sent.payload == {**request.body, "model": "upstream-model"}
    assert sent.timeouts == PLAN.call_timeouts
    assert request.body["model"] == "default"  # the client's body is never modified


def test_a_requests_body_is_serialised_once_per_adapter_kind_and_model() -> None:
    plans = build_plans(make_config([("a", "http://a.test/v1"), ("b", "http://b.test/v1")]))
    request = client_request(temperature=0.2)

    first = upstream_body(plans["a"], "m1", request)
    assert orjson.loads(first) == {**request.body, "model": "m1"}
    assert upstream_body(plans["a"], "m1", request) is first  # another key of the provider
    assert upstream_body(plans["b"], "m1", request) is first  # another entry of the same kind
    assert orjson.loads(upstream_body(plans["a"], "m2", request))["model"] == "m2"
    assert upstream_body(plans["a"], "m1", client_request(temperature=0.2)) is not first


async def test_a_served_call_keeps_the_body_and_releases_the_connection() -> None:
    upstream = ScriptedUpstream(json_response(200, completion("hello")))
    result = await Attempter(upstream, REDACTOR, CLOCK.now).call(
        PLAN, RESERVATION, client_request()
    )

    assert (result.outcome, result.status, result.answered_at) == (Outcome.SERVED, 200, CLOCK.now())
    assert orjson.loads(result.body) == completion("hello")
    assert result.document == completion("hello")
    assert result.usage == completion()["usage"]
    assert upstream.responses[0].released


async def test_a_failed_call_says_why_and_when_to_retry_and_releases_the_connection() -> None:
    upstream = ScriptedUpstream(error_response(429, "slow down", {"retry-after": "7"}))
    result = await Attempter(upstream, REDACTOR, CLOCK.now).call(
        PLAN, RESERVATION, client_request()
    )

    assert (result.outcome, result.status) == (Outcome.RATE_LIMITED, 429)
    assert result.reason == "HTTP 429: slow down"
    assert result.retry_at == pytest.approx(CLOCK.now() + 7, abs=1)
    assert result.error is not None and result.error.message == "slow down"
    assert upstream.responses[0].released


@pytest.mark.parametrize(
    ("response", "outcome", "reason"),
    [
        (ScriptedResponse(200, b"<html>"), Outcome.BAD_RESPONSE, "response is not JSON"),
        (ScriptedResponse(200, b"[1]"), Outcome.BAD_RESPONSE, "response is not an object"),
        (json_response(200, {"id": "x"}), Outcome.BAD_RESPONSE, "response has no choices"),
        (
            json_response(200, {"error": {"message": "overloaded"}}),
            Outcome.IN_BAND_ERROR,
            "error inside a 200 body: overloaded",
        ),
    ],
    ids=repr,
)
async def test_a_2xx_that_is_not_a_completion_is_a_failure(response, outcome, reason) -> None:
    result = await call(response)
    assert (result.outcome, result.reason) == (outcome, reason)


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (UpstreamTimeoutError("late"), Outcome.TIMEOUT),
        (UpstreamConnectError("cannot connect to upstream (refused)"), Outcome.CONNECT_ERROR),
        (UpstreamProtocolError("upstream connection failed (x)"), Outcome.BAD_RESPONSE),
    ],
    ids=repr,
)
async def test_a_transport_failure_is_an_outcome_not_an_exception(error, outcome) -> None:
    assert (await call(error)).outcome is outcome


async def test_a_call_that_outlives_the_entrys_timeout_is_a_timeout() -> None:
    impatient = dataclasses.replace(PLAN, timeout_s=0.01)
    result = await call(HANG, plan=impatient)
    assert (result.outcome, result.reason) == (Outcome.TIMEOUT, "no answer within 0.01s")


async def test_a_bug_in_the_client_goes_up() -> None:
    with pytest.raises(RuntimeError):
        await call(RuntimeError("bug"))


# -- streams: held until the commit point ----------------------------------------------------


async def test_a_stream_asks_for_usage_and_keeps_the_clients_stream_options() -> None:
    upstream = ScriptedUpstream(sse_response(CONTENT, b"[DONE]"))
    await open_stream(upstream, stream_options={"other": 1})
    (sent,) = upstream.sent
    assert sent.payload["stream_options"] == {"other": 1, "include_usage": True}
    assert sent.timeouts == PLAN.stream_timeouts


async def test_a_stream_commits_at_its_first_content_with_the_events_held_so_far() -> None:
    upstream = ScriptedUpstream(sse_response(EMPTY, CONTENT, chunk({"content": "!"}), b"[DONE]"))
    commit = await open_stream(upstream)

    assert isinstance(commit, Commit)
    assert [orjson.loads(e) for e in commit.events] == [EMPTY, CONTENT]  # the rest is unread
    assert commit.chunks is not None
    assert not upstream.responses[0].let_go  # the relay reads on from here
    rest = [c async for c in commit.chunks]
    assert commit.parser.feed(b"".join(rest)) == [orjson.dumps(chunk({"content": "!"})), b"[DONE]"]


@pytest.mark.parametrize(
    ("events", "outcome", "reason"),
    [
        (
            [EMPTY, {"error": {"message": "overloaded"}}],
            Outcome.IN_BAND_ERROR,
            "error event before any content: overloaded",
        ),
        ([EMPTY, b"[DONE]"], Outcome.BAD_RESPONSE, "stream ended before any content"),
        ([EMPTY], Outcome.BAD_RESPONSE, "stream ended before any content"),
        ([b"{broken"], Outcome.BAD_RESPONSE, "unparseable event"),
        ([EMPTY, UpstreamProtocolError("dropped")], Outcome.BAD_RESPONSE, "dropped"),
        ([EMPTY, UpstreamTimeoutError("idle")], Outcome.TIMEOUT, "no content within 5s"),
    ],
    ids=repr,
)
async def test_a_stream_that_fails_before_its_first_content_is_a_failure_and_closed(
    events, outcome, reason
) -> None:
    upstream = ScriptedUpstream(sse_response(*events))
    result = await open_stream(upstream)

    assert isinstance(result, AttemptResult)
    assert (result.outcome, result.reason) == (outcome, reason)
    assert upstream.responses[0].closed


async def test_a_stream_refused_with_a_status_is_that_statuss_outcome() -> None:
    upstream = ScriptedUpstream(error_response(402, "no credit"))
    result = await open_stream(upstream)
    assert isinstance(result, AttemptResult)
    assert (result.outcome, result.reason) == (Outcome.PAYMENT_REQUIRED, "HTTP 402: no credit")
    assert upstream.responses[0].released


async def test_a_whole_json_answer_to_a_stream_request_becomes_a_stream() -> None:
    upstream = ScriptedUpstream(json_response(200, completion("whole")))
    commit = await open_stream(upstream)

    assert isinstance(commit, Commit)
    assert commit.chunks is None
    first = orjson.loads(commit.events[0])
    assert first["object"] == "chat.completion.chunk"
    assert first["choices"][0]["delta"]["content"] == "whole"
    assert commit.events[-1] == b"[DONE]"
    assert commit.usage == completion()["usage"]
    assert upstream.responses[0].released


async def test_a_bug_while_reading_a_stream_goes_up_and_closes_it() -> None:
    upstream = ScriptedUpstream(sse_response(EMPTY, RuntimeError("bug")))
    with pytest.raises(RuntimeError):
        await open_stream(upstream)
    assert upstream.responses[0].closed


# -- the upstream's words: made safe here, once ----------------------------------------------

ECHO = f"Incorrect API key {PROVIDER_KEY} (ends ...{PROVIDER_KEY[-9:]}), see https://x.example/k"
ECHOED = {"error": {"message": ECHO, "type": f"t {PROVIDER_KEY}", "code": PROVIDER_KEY}}


def assert_safe(result: AttemptResult, *, code: str | None = "[redacted]") -> None:
    assert result.error is not None
    texts = [result.reason, result.error.message, result.error.type or "", result.error.code or ""]
    for text in texts:
        assert not [i for i in range(len(PROVIDER_KEY) - 7) if PROVIDER_KEY[i : i + 8] in text]
        assert "://" not in text
    assert "Incorrect API key [redacted]" in result.reason and "[url]" in result.reason
    assert result.error.code == code


@pytest.mark.parametrize("status", [400, 401, 429, 500])
async def test_a_key_an_error_body_echoes_is_gone_from_the_result(status: int) -> None:
    result = await call(json_response(status, ECHOED, {"x-echo": PROVIDER_KEY}))
    assert result.reason.startswith(f"HTTP {status}: Incorrect API key [redacted]")
    assert_safe(result)


async def test_a_key_an_error_page_echoes_is_gone_from_the_result() -> None:
    page = ScriptedResponse(503, f"<html>{ECHO}</html>".encode(), content_type="text/html")
    assert_safe(await call(page), code=None)


async def test_a_key_echoed_by_an_error_inside_a_200_is_gone_from_the_result() -> None:
    result = await call(json_response(200, ECHOED))
    assert result.outcome is Outcome.IN_BAND_ERROR
    assert_safe(result)


async def test_a_key_echoed_by_an_error_event_before_content_is_gone_from_the_result() -> None:
    result = await open_stream(ScriptedUpstream(sse_response(EMPTY, ECHOED)))
    assert isinstance(result, AttemptResult) and result.outcome is Outcome.IN_BAND_ERROR
    assert result.reason.startswith("error event before any content: Incorrect API key")
    assert_safe(result)


async def test_a_long_upstream_message_is_cut_to_a_short_line() -> None:
    result = await call(error_response(400, ECHO + " blah" * 200))
    assert result.error is not None
    assert len(result.reason) == len(result.error.message) == MAX_REASON_CHARS + 1
    assert result.reason.endswith("…") and result.error.message.endswith("…")
