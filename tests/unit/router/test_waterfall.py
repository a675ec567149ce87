"""The waterfall through fakes of its two seams (client channel, upstream client) on the fake
clock: admission, the call, what each outcome does to the walk, the answer when nothing serves,
and exactly one answer and one record per request whatever goes wrong."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chain429.errors import UpstreamConnectError, UpstreamProtocolError, UpstreamTimeoutError
from chain429.limits.tracker import Skip
from chain429.outcome import RULES, Outcome
from chain429.router.inflight import Drained
from chain429.usage.records import RequestRecord
from tests.support.fake_router_io import (
    HANG,
    Gate,
    RecordingChannel,
    Router,
    ScriptedResponse,
    ScriptedUpstream,
    client_request,
    error_response,
    json_response,
    make_router,
    sse_response,
)
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.upstream import chunk, completion, standard_events
from tests.support.usage_records import MemorySink

URL_A, URL_B = "http://a.test/v1", "http://b.test/v1"
KEY_1, KEY_2 = "sk-key-one-0000000001", "sk-key-two-0000000002"


def two_entries(
    upstream: ScriptedUpstream,
    *,
    settings: dict[str, Any] | None = None,
    a: dict[str, Any] | None = None,
) -> Router:
    """Chain `default`: a/a-model, then b/b-model."""
    config = make_config(
        [("a", URL_A), ("b", URL_B)], settings=settings, provider_extra={"a": a or {}}
    )
    return make_router(config, upstream)


def record_of(router: Router) -> RequestRecord:
    assert len(router.sink.records) == 1, router.sink.records
    return router.sink.records[0]


def outcomes(record: RequestRecord) -> list[tuple[str, Outcome]]:
    return [(a.provider_id, a.outcome) for a in record.attempts]


def hosts(upstream: ScriptedUpstream) -> list[str]:
    return [sent.url.split("/")[2] for sent in upstream.sent]


def content_stream(*words: str) -> ScriptedResponse:
    return sse_response(*standard_events(words))


FALLS_THROUGH = [
    (error_response(429), Outcome.RATE_LIMITED),
    (error_response(402), Outcome.PAYMENT_REQUIRED),
    (error_response(401), Outcome.AUTH_FAILED),
    (error_response(403), Outcome.AUTH_FAILED),
    (error_response(404), Outcome.NOT_FOUND),
    (error_response(400, "unsupported parameter"), Outcome.REJECTED),
    (error_response(500), Outcome.SERVER_ERROR),
    (error_response(408), Outcome.SERVER_ERROR),
    (UpstreamConnectError("refused"), Outcome.CONNECT_ERROR),
    (UpstreamTimeoutError("slow"), Outcome.TIMEOUT),
    (UpstreamProtocolError("dropped"), Outcome.BAD_RESPONSE),
    (ScriptedResponse(200, b"<html>"), Outcome.BAD_RESPONSE),
    (json_response(200, {"error": {"message": "overloaded"}}), Outcome.IN_BAND_ERROR),
]


@pytest.mark.parametrize(("first", "outcome"), FALLS_THROUGH, ids=repr)
async def test_each_failure_falls_through_to_the_next_entry(first, outcome) -> None:
    router = two_entries(ScriptedUpstream(first, json_response(200, completion("from b"))))
    channel = await router.serve()

    assert RULES[outcome].walk_on
    assert channel.answer.status == 200
    assert channel.json()["choices"][0]["message"]["content"] == "from b"
    assert channel.answer.headers["X-429chain-Provider"] == "b/b-model"
    assert channel.answer.headers["X-429chain-Attempts"] == "2"
    record = record_of(router)
    assert outcomes(record) == [("a", outcome), ("b", Outcome.SERVED)]
    assert (record.status, record.provider_id, record.error_class) == (200, "b", None)
    assert all(r.let_go for r in router.upstream.responses)


STREAM_FALLS_THROUGH = [
    (sse_response(chunk({}), {"error": {"message": "overloaded"}}), Outcome.IN_BAND_ERROR),
    (sse_response(chunk({}), b"[DONE]"), Outcome.BAD_RESPONSE),
    (sse_response(b"{not json"), Outcome.BAD_RESPONSE),
    (sse_response(chunk({}), UpstreamProtocolError("dropped")), Outcome.BAD_RESPONSE),
    (error_response(429), Outcome.RATE_LIMITED),
]


@pytest.mark.parametrize(("first", "outcome"), STREAM_FALLS_THROUGH, ids=repr)
async def test_a_stream_that_fails_before_its_first_content_falls_through(first, outcome) -> None:
    router = two_entries(ScriptedUpstream(first, content_stream("from", " b")))
    channel = await router.serve(client_request(stream=True))

    assert channel.answer.headers["X-429chain-Provider"] == "b/b-model"
    texts = [e["choices"][0]["delta"].get("content") for e in channel.event_json() if e["choices"]]
    assert texts == ["", "from", " b", None]
    assert channel.events()[-1] == b"[DONE]"
    assert outcomes(record_of(router)) == [("a", outcome), ("b", Outcome.SERVED)]
    assert all(r.let_go for r in router.upstream.responses)


async def test_nothing_reaches_the_client_before_the_first_content() -> None:
    gate = Gate()
    first = sse_response(chunk({}), gate, {"error": {"message": "overloaded"}})
    router = two_entries(ScriptedUpstream(first, content_stream("b")))
    channel = RecordingChannel()
    serving = asyncio.ensure_future(router.serve(client_request(stream=True), channel))
    await asyncio.wait_for(gate.reached.wait(), 5)

    # an event came from the upstream, but not one with content: the client has heard nothing
    assert (channel.answers, channel.written) == ([], [])
    gate.open()
    await asyncio.wait_for(serving, 5)
    assert channel.answer.headers["X-429chain-Provider"] == "b/b-model"
    assert b"overloaded" not in b"".join(channel.written)


async def test_a_stream_that_breaks_after_its_first_content_ends_with_an_error_event() -> None:
    first = sse_response(chunk({"role": "assistant", "content": "Hel"}), UpstreamProtocolError("x"))
    router = two_entries(ScriptedUpstream(first, content_stream("b")))
    channel = await router.serve(client_request(stream=True))

    assert channel.answer.headers["X-429chain-Provider"] == "a/a-model"
    events = channel.event_json()
    assert events[0]["choices"][0]["delta"]["content"] == "Hel"
    assert events[-1]["error"]["code"] == "upstream_stream_failed"
    assert b"[DONE]" not in channel.events()
    assert router.upstream.calls == 1  # the stream belongs to the client: no second entry
    record = record_of(router)
    assert outcomes(record) == [("a", Outcome.MID_STREAM_FAILURE)]
    assert (record.status, record.provider_id, record.error_class) == (
        200,
        "a",
        "mid_stream_failure",
    )
    assert router.upstream.responses[0].closed


class EndSeenSink(MemorySink):
    """Notes, for each record, whether the client's stream had already been ended."""

    def __init__(self, channel: RecordingChannel) -> None:
        super().__init__()
        self.channel = channel
        self.ended_before: list[bool] = []

    def submit(self, record: RequestRecord) -> None:
        self.ended_before.append(self.channel.ended)
        super().submit(record)


@pytest.mark.parametrize(
    "first",
    [content_stream("a"), sse_response(chunk({"content": "Hel"}), UpstreamProtocolError("x"))],
    ids=["served", "broken"],
)
async def test_a_stream_is_ended_before_the_bookkeeping_that_follows(first) -> None:
    """The client has the whole answer before the record (and its log line) is made."""
    channel = RecordingChannel()
    sink = EndSeenSink(channel)
    config = make_config([("a", URL_A), ("b", URL_B)])
    router = make_router(config, ScriptedUpstream(first), sink=sink)
    await router.serve(client_request(stream=True), channel)

    assert sink.ended_before == [True]


async def test_a_stream_whose_client_left_is_recorded_as_closed_without_an_end() -> None:
    gate = Gate()
    router = two_entries(ScriptedUpstream(sse_response(chunk({"content": "Hel"}), gate, chunk({}))))
    channel = RecordingChannel()
    serving = asyncio.ensure_future(router.serve(client_request(stream=True), channel))
    await asyncio.wait_for(gate.reached.wait(), 5)
    channel.leave()
    gate.open()
    await asyncio.wait_for(serving, 5)

    assert not channel.ended
    assert outcomes(record_of(router)) == [("a", Outcome.CLIENT_CLOSED)]


KEY_OUTCOMES = [(error_response(s), True) for s in (429, 402, 401, 403)]
ENTRY_OUTCOMES = [(error_response(s), False) for s in (404, 400, 500)]
ENTRY_OUTCOMES.append((UpstreamConnectError("refused"), False))


@pytest.mark.parametrize(("first", "next_key"), KEY_OUTCOMES + ENTRY_OUTCOMES, ids=repr)
async def test_a_failure_of_the_key_tries_the_providers_next_key_first(first, next_key) -> None:
    router = two_entries(
        ScriptedUpstream(first, json_response()),
        a={"apiKey": KEY_1, "apiKeys": [KEY_1, KEY_2]},
    )
    channel = await router.serve()

    assert channel.answer.status == 200
    second = router.upstream.sent[1]
    if next_key:
        assert (hosts(router.upstream), second.key) == (["a.test", "a.test"], KEY_2)
        assert channel.answer.headers["X-429chain-Provider"] == "a/a-model"
    else:
        assert hosts(router.upstream) == ["a.test", "b.test"]
        assert channel.answer.headers["X-429chain-Provider"] == "b/b-model"
    assert router.upstream.sent[0].key == KEY_1
    assert len(record_of(router).attempts) == 2


async def test_an_entry_known_to_be_exhausted_is_skipped_without_a_call() -> None:
    limited = error_response(429, headers={"retry-after": "30"})
    router = two_entries(ScriptedUpstream(limited, json_response()))
    await router.serve()
    router.sink.records.clear()

    channel = await router.serve(client_request(request_id="req-2"))
    assert channel.answer.headers["X-429chain-Provider"] == "b/b-model"
    assert hosts(router.upstream) == ["a.test", "b.test", "b.test"]
    record = record_of(router)
    assert outcomes(record) == [("a", Outcome.SKIPPED), ("b", Outcome.SERVED)]
    assert record.attempts[0].reason == "HTTP 429: nope"  # why it cools down


# -- when nothing serves: the verdict -------------------------------------------------------


async def test_every_entry_rate_limited_is_a_429_with_retry_after_until_the_earliest() -> None:
    router = two_entries(
        ScriptedUpstream(
            error_response(429, headers={"retry-after": "40"}),
            error_response(429, headers={"retry-after": "20"}),
        )
    )
    channel = await router.serve()

    assert channel.answer.status == 429
    assert channel.answer.headers["Retry-After"] == "20"
    assert channel.error["code"] == "rate_limit_exceeded"
    assert "No entry of chain 'default'" in channel.error["message"]
    record = record_of(router)
    assert (record.status, record.error_class) == (429, "all_entries_unavailable")


async def test_every_entry_failing_is_a_503() -> None:
    router = two_entries(
        ScriptedUpstream(error_response(500), UpstreamConnectError("refused")),
        settings={"failurePenaltyMs": 7000},
    )
    channel = await router.serve()

    assert channel.answer.status == 503
    assert channel.answer.headers["Retry-After"] == "7"
    assert channel.error["code"] == "service_unavailable"
    assert record_of(router).error_class == "all_entries_failing"


async def test_every_entry_rejecting_the_request_answers_with_the_first_rejection() -> None:
    router = two_entries(
        ScriptedUpstream(error_response(422, "context too long"), error_response(400, "no"))
    )
    channel = await router.serve()

    assert channel.answer.status == 422
    assert "Retry-After" not in channel.answer.headers
    assert "a/a-model rejected the request: context too long" in channel.error["message"]
    assert record_of(router).error_class == "rejected"


async def test_no_entry_usable_until_the_config_changes_is_a_502() -> None:
    router = two_entries(ScriptedUpstream(error_response(404), error_response(401)))
    channel = await router.serve()

    assert channel.answer.status == 502
    assert channel.error["code"] == "no_usable_entry"
    assert record_of(router).error_class == "no_usable_entry"


async def test_a_direct_provider_model_request_is_one_entry_and_its_answer_says_so() -> None:
    router = two_entries(ScriptedUpstream(error_response(429, headers={"retry-after": "9"})))
    channel = await router.serve(client_request("b/other-model"))

    assert router.upstream.sent[0].payload["model"] == "other-model"
    assert hosts(router.upstream) == ["b.test"]
    assert channel.answer.status == 429
    assert channel.error["message"].startswith("Entry 'b/other-model' cannot serve")
    assert record_of(router).chain == "b/other-model"


async def test_an_unknown_model_with_strict_models_on_is_a_404() -> None:
    router = two_entries(ScriptedUpstream(json_response()), settings={"strictModels": True})
    channel = await router.serve(client_request("gpt-nothing"))

    assert channel.answer.status == 404
    assert channel.error["code"] == "model_not_found"
    assert router.upstream.calls == 0
    assert record_of(router).error_class == "model_not_found"


# -- one answer and one record, whatever happens --------------------------------------------


async def test_a_bug_in_the_upstream_client_is_a_500_with_one_record() -> None:
    router = two_entries(
        ScriptedUpstream(RuntimeError("bug"), json_response()),
        a={"rateLimits": {"concurrentRequests": 1}},
    )
    channel = await router.serve()

    assert channel.answer.status == 500
    assert channel.error["code"] == "internal_error"
    assert router.upstream.calls == 1  # a bug ends the request: no next entry
    record = record_of(router)
    assert (record.status, record.error_class, record.provider_id) == (500, "internal_error", None)
    assert outcomes(record) == [("a", Outcome.INTERNAL_ERROR)]

    router.sink.records.clear()
    served = await router.serve(client_request(request_id="req-2"))
    assert served.answer.headers["X-429chain-Provider"] == "a/a-model"  # reservation released


async def test_a_bug_in_the_tracker_before_any_call_is_a_500_with_one_record(monkeypatch) -> None:
    router = two_entries(ScriptedUpstream(json_response()))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tracker bug")

    monkeypatch.setattr(router.tracker, "admit", broken)
    channel = await router.serve()

    assert channel.answer.status == 500
    assert router.upstream.calls == 0
    record = record_of(router)
    assert (record.status, record.error_class, record.attempts) == (500, "internal_error", ())


async def test_a_bug_after_the_answer_was_sent_keeps_that_answer(monkeypatch) -> None:
    router = two_entries(ScriptedUpstream(json_response()))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tracker bug")

    monkeypatch.setattr(router.tracker, "observe", broken)
    channel = await router.serve()

    assert channel.answer.status == 200  # the only answer: no 500 after it
    record = record_of(router)
    assert (record.status, record.error_class, record.provider_id) == (200, "internal_error", "a")
    assert outcomes(record) == [("a", Outcome.INTERNAL_ERROR)]


async def test_a_bug_inside_a_started_stream_ends_it_with_an_error_event() -> None:
    first = sse_response(chunk({"role": "assistant", "content": "Hel"}), RuntimeError("bug"))
    router = two_entries(ScriptedUpstream(first, content_stream("b")))
    channel = await router.serve(client_request(stream=True))

    assert channel.answer.headers["X-429chain-Provider"] == "a/a-model"
    assert channel.event_json()[-1]["error"]["code"] == "internal_error"
    assert router.upstream.calls == 1
    record = record_of(router)
    assert (record.status, record.error_class, record.provider_id) == (200, "internal_error", "a")
    assert router.upstream.responses[0].closed


async def test_a_client_that_leaves_gets_no_answer_and_one_client_closed_record() -> None:
    router = two_entries(ScriptedUpstream(HANG))
    serving = asyncio.ensure_future(router.serve())
    await eventually(lambda: router.upstream.calls == 1, what="the call is out")
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving

    record = record_of(router)
    assert (record.status, record.error_class, record.client_closed) == (499, "client_closed", True)
    assert outcomes(record) == [("a", Outcome.CLIENT_CLOSED)]
    assert len(router.waterfall.in_flight) == 0


async def test_a_shutdown_cut_answers_503_and_records_it() -> None:
    router = two_entries(ScriptedUpstream(HANG))
    serving = asyncio.ensure_future(router.serve())
    await eventually(lambda: router.upstream.calls == 1, what="the call is out")

    assert await router.waterfall.in_flight.drain(0) == Drained(finished=0, cut=1)
    channel = await serving
    assert channel.answer.status == 503
    assert channel.error["code"] == "shutdown"
    record = record_of(router)
    assert (record.status, record.error_class) == (503, "shutdown")
    assert outcomes(record) == [("a", Outcome.SHUTDOWN)]


async def test_a_shutdown_cut_ends_a_stream_under_way_with_an_error_event() -> None:
    first = sse_response(chunk({"role": "assistant", "content": "Hel"}), HANG)
    router = two_entries(ScriptedUpstream(first))
    channel = RecordingChannel()
    serving = asyncio.ensure_future(router.serve(client_request(stream=True), channel))
    await eventually(lambda: bool(channel.written), what="the stream is under way")

    await router.waterfall.in_flight.drain(0)
    await serving
    assert channel.answer.headers["X-429chain-Provider"] == "a/a-model"
    events = channel.event_json()
    assert events[0]["choices"][0]["delta"]["content"] == "Hel"
    assert events[-1]["error"]["code"] == "shutdown"
    record = record_of(router)
    assert (record.status, record.error_class, record.provider_id) == (503, "shutdown", "a")
    assert router.upstream.responses[0].closed


# -- queue mode: wait for a turn, then one ordinary pass -------------------------------------


def queued(
    upstream: ScriptedUpstream, *, wait_ms: int = 300_000, size: int = 10, **a: Any
) -> Router:
    """Queue mode over one entry, a/a-model, that serves one request a minute."""
    config = make_config(
        [("a", URL_A)],
        settings={"queueMode": True, "queueMaxWaitMs": wait_ms, "queueMaxSize": size},
        provider_extra={"a": {"rateLimits": {"requestsPerMinute": 1}, **a}},
    )
    return make_router(config, upstream)


def depth(router: Router) -> int:
    queues = router.waterfall.queues
    assert queues is not None
    return sum(queues.depths().values())


async def test_a_queued_request_is_served_when_the_window_resets_and_records_its_wait() -> None:
    router = queued(ScriptedUpstream(json_response()))
    await router.serve()
    router.sink.records.clear()

    waiting = asyncio.ensure_future(router.serve(client_request(request_id="req-2")))
    await eventually(lambda: depth(router) == 1 and router.clock.pending == 2, what="queued")
    assert router.upstream.calls == 1
    router.clock.advance(61)
    channel = await asyncio.wait_for(waiting, 5)

    assert channel.answer.status == 200
    record = record_of(router)
    assert outcomes(record) == [("a", Outcome.SERVED)]  # the stale skip left with its pass
    assert record.queued_ms == 61_000
    assert depth(router) == 0 and router.clock.pending == 0


async def test_a_window_that_resets_while_the_walk_goes_on_still_wakes_the_request() -> None:
    """The walk finds the window spent a moment before its reset, and the reset has come by the
    time the request goes back in line (a loaded event loop): it walks again at once instead
    of sleeping, with nothing in flight to wake it, until its deadline (the soak of issue 16
    saw queued requests wait their whole 30 s while the window had room every second)."""
    router = queued(ScriptedUpstream(json_response()))
    await router.serve()
    router.sink.records.clear()
    admit = router.tracker.admit

    def admit_then_reach_the_reset(provider: Any, model: str, demand: Any = None) -> Any:
        admitted = admit(provider, model, demand)
        if isinstance(admitted, Skip) and admitted.until is not None:
            router.tracker.admit = admit  # once
            router.clock.advance(admitted.until - router.clock.now())
        return admitted

    router.tracker.admit = admit_then_reach_the_reset  # type: ignore[method-assign]
    channel = await asyncio.wait_for(router.serve(client_request(request_id="req-2")), 5)

    assert channel.answer.status == 200
    record = record_of(router)
    assert outcomes(record) == [("a", Outcome.SERVED)]  # the skip left with its pass
    assert record.queued_ms == 0  # back in line with its reset already come: it went at once
    assert depth(router) == 0 and router.clock.pending == 0


async def test_a_queued_request_gives_up_at_its_deadline_after_one_last_look() -> None:
    router = queued(ScriptedUpstream(json_response()), wait_ms=20_000)
    await router.serve()
    router.sink.records.clear()

    waiting = asyncio.ensure_future(router.serve(client_request(request_id="req-2")))
    await eventually(lambda: router.clock.pending == 1, what="waiting for the deadline")
    router.clock.advance(20)
    channel = await asyncio.wait_for(waiting, 5)

    assert channel.answer.status == 429
    assert channel.answer.headers["Retry-After"] == "40"  # from the last look, at the deadline
    record = record_of(router)
    assert outcomes(record) == [("a", Outcome.SKIPPED)]
    assert (record.error_class, record.queued_ms) == ("all_entries_unavailable", 20_000)
    assert depth(router) == 0 and router.clock.pending == 0


async def test_waiters_take_their_turns_in_arrival_order_and_a_full_queue_refuses_at_once() -> None:
    router = queued(ScriptedUpstream(json_response()), size=2)
    await router.serve()
    first = asyncio.ensure_future(router.serve(client_request(request_id="first")))
    await eventually(lambda: depth(router) == 1, what="first queued")
    second = asyncio.ensure_future(router.serve(client_request(request_id="second")))
    await eventually(lambda: depth(router) == 2, what="second queued")

    refused = await router.serve(client_request(request_id="third"))
    assert refused.answer.status == 429
    assert refused.error["code"] == "queue_full"
    assert router.upstream.calls == 1  # refused without a walk

    router.clock.advance(61)
    await asyncio.wait_for(first, 5)
    assert not second.done()
    router.clock.advance(61)
    await asyncio.wait_for(second, 5)
    served = [r.request_id for r in router.sink.records if r.status == 200]
    assert served == ["req-1", "first", "second"]
    assert [r.error_class for r in router.sink.records if r.status == 429] == ["queue_full"]


async def test_a_released_reservation_wakes_a_request_waiting_for_concurrency() -> None:
    gate = Gate()
    upstream = ScriptedUpstream(ScriptedResponse(200, json_response().body, gate=gate))
    config = make_config(
        [("a", URL_A)],
        settings={"queueMode": True, "queueMaxWaitMs": 300_000},
        provider_extra={"a": {"rateLimits": {"concurrentRequests": 1}}},
    )
    router = make_router(config, upstream)
    busy = asyncio.ensure_future(router.serve())
    await asyncio.wait_for(gate.reached.wait(), 5)
    waiting = asyncio.ensure_future(router.serve(client_request(request_id="req-2")))
    await eventually(lambda: depth(router) == 1, what="queued behind the busy one")

    gate.open()  # no clock move: only the release can wake it
    await asyncio.wait_for(asyncio.gather(busy, waiting), 5)
    assert [r.status for r in router.sink.records] == [200, 200]
    assert router.sink.records[1].queued_ms == 0
    assert router.upstream.calls == 2


class FailingSink(MemorySink):
    def submit(self, record: RequestRecord) -> None:
        super().submit(record)
        raise RuntimeError("sink bug")


async def test_a_sink_that_fails_is_not_handed_the_request_twice() -> None:
    upstream = ScriptedUpstream(json_response())
    router = make_router(make_config([("a", URL_A)]), upstream, sink=FailingSink())
    channel = await router.serve()

    assert channel.answer.status == 200  # the answer stands; the bug is logged
    assert len(router.sink.records) == 1
