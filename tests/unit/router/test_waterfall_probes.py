"""The waterfall at an entry that takes only its probes: a request waits for their answer,
then is admitted against it or walks on; the wait is recorded on its attempt and ends with the
client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chain429.limits.probe import FAILED_DETAIL, UNKNOWN_DETAIL
from chain429.outcome import Outcome
from chain429.router.plan import tracker_setup
from chain429.router.routing import build_routing
from chain429.usage.records import RequestRecord
from tests.support.fake_router_io import (
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
from tests.support.upstream import chunk, standard_events

URL_A, URL_B = "http://a.test/v1", "http://b.test/v1"
HEADERS = {
    "x-ratelimit-limit-requests": "10",
    "x-ratelimit-remaining-requests": "1",
    "x-ratelimit-reset-requests": "60s",
}


def two_entries(upstream: ScriptedUpstream, **settings: Any) -> Router:
    config = make_config(
        [("a", URL_A), ("b", URL_B)], settings=settings, provider_types={"a": "openai"}
    )
    return make_router(config, upstream)


def by_id(router: Router) -> dict[str, RequestRecord]:
    return {r.request_id: r for r in router.sink.records}


def hosts(upstream: ScriptedUpstream) -> list[str]:
    return [sent.url.split("/")[2] for sent in upstream.sent]


def waiting(router: Router) -> int:
    return router.waterfall._probes.waiting("a", "a-model")


async def test_a_request_at_a_cold_entry_waits_for_the_probe_and_goes_by_its_answer():
    gate = Gate()
    first = ScriptedResponse(200, json_response().body, HEADERS, gate=gate)
    after = json_response(headers={**HEADERS, "x-ratelimit-remaining-requests": "0"})
    router = two_entries(ScriptedUpstream(first, after, json_response()))
    probe = asyncio.ensure_future(router.serve(client_request(request_id="probe")))
    await asyncio.wait_for(gate.reached.wait(), 5)
    waiters = [
        asyncio.ensure_future(router.serve(client_request(request_id=f"w{i}"))) for i in range(3)
    ]
    await eventually(lambda: waiting(router) == 3, what="three waiting for the probe")
    router.clock.advance(0.3)
    gate.open()
    await asyncio.wait_for(asyncio.gather(probe, *waiters), 5)

    assert hosts(router.upstream) == ["a.test", "a.test", "b.test", "b.test"]
    records = by_id(router)
    assert [a.waited_ms for a in records["probe"].attempts] == [None]
    served_at_a = [r for r in records.values() if r.provider_id == "a" and r.request_id != "probe"]
    assert len(served_at_a) == 1, "remaining: 1 let one waiter in"
    assert served_at_a[0].attempts[0].waited_ms == pytest.approx(300.0)
    walked_on = [r for r in records.values() if r.provider_id == "b"]
    for record in walked_on:
        skip = record.attempts[0]
        assert (skip.provider_id, skip.outcome) == ("a", Outcome.SKIPPED)
        assert skip.waited_ms == pytest.approx(300.0)
        assert skip.reason == "requests per minute exhausted"
        assert record.attempts[1].waited_ms is None


async def test_a_failing_probe_sends_the_waiters_on_and_costs_one_call():
    gate = Gate()
    first = ScriptedResponse(500, b'{"error": {"message": "down"}}', gate=gate)
    router = two_entries(ScriptedUpstream(first, json_response()))
    probe = asyncio.ensure_future(router.serve(client_request(request_id="probe")))
    await asyncio.wait_for(gate.reached.wait(), 5)
    waiters = [
        asyncio.ensure_future(router.serve(client_request(request_id=f"w{i}"))) for i in range(5)
    ]
    await eventually(lambda: waiting(router) == 5, what="five waiting")
    gate.open()
    await asyncio.wait_for(asyncio.gather(probe, *waiters), 5)
    assert hosts(router.upstream).count("a.test") == 1
    assert all(r.provider_id == "b" for r in router.sink.records)
    skips = [r.attempts[0] for r in router.sink.records if r.request_id != "probe"]
    assert {(s.outcome, s.reason) for s in skips} == {(Outcome.SKIPPED, "HTTP 500: down")}


async def test_after_the_penalty_the_entry_probes_again_one_at_a_time():
    gate = Gate()
    held = ScriptedResponse(200, json_response().body, gate=gate)
    upstream = ScriptedUpstream(error_response(500), json_response(), held, json_response())
    router = two_entries(upstream, failurePenaltyMs=1000)
    await router.serve(client_request(request_id="fails"))
    router.clock.advance(1)
    probe = asyncio.ensure_future(router.serve(client_request(request_id="probe")))
    await asyncio.wait_for(gate.reached.wait(), 5)
    second = asyncio.ensure_future(router.serve(client_request(request_id="second")))
    await eventually(lambda: waiting(router) == 1, what="waiting after a failure")
    router.clock.advance(2)
    await asyncio.wait_for(second, 5)
    skip = by_id(router)["second"].attempts[0]
    assert (skip.reason, skip.waited_ms) == (FAILED_DETAIL, pytest.approx(2000.0))
    gate.open()
    await asyncio.wait_for(probe, 5)


async def test_the_wait_ends_at_probe_wait_ms_and_the_request_walks_on():
    gate = Gate()
    first = ScriptedResponse(200, json_response().body, gate=gate)
    router = two_entries(ScriptedUpstream(first, json_response()), probeWaitMs=1500)
    probe = asyncio.ensure_future(router.serve(client_request(request_id="probe")))
    await asyncio.wait_for(gate.reached.wait(), 5)
    late = asyncio.ensure_future(router.serve(client_request(request_id="late")))
    await eventually(lambda: waiting(router) == 1, what="waiting")
    router.clock.advance(1.5)
    channel = await asyncio.wait_for(late, 5)
    assert channel.answer.headers["X-429chain-Provider"] == "b/b-model"
    skip = by_id(router)["late"].attempts[0]
    assert (skip.outcome, skip.reason) == (Outcome.SKIPPED, UNKNOWN_DETAIL)
    assert skip.waited_ms == pytest.approx(1500.0)
    gate.open()
    await asyncio.wait_for(probe, 5)


async def test_probe_wait_zero_walks_on_at_once():
    gate = Gate()
    first = ScriptedResponse(200, json_response().body, gate=gate)
    router = two_entries(ScriptedUpstream(first, json_response()), probeWaitMs=0)
    probe = asyncio.ensure_future(router.serve(client_request(request_id="probe")))
    await asyncio.wait_for(gate.reached.wait(), 5)
    channel = await asyncio.wait_for(router.serve(client_request(request_id="now")), 5)
    assert channel.answer.headers["X-429chain-Provider"] == "b/b-model"
    skip = by_id(router)["now"].attempts[0]
    assert (skip.reason, skip.waited_ms) == (UNKNOWN_DETAIL, None)
    gate.open()
    await asyncio.wait_for(probe, 5)


async def test_a_client_that_leaves_while_waiting_is_recorded_with_its_wait():
    gate = Gate()
    first = ScriptedResponse(200, json_response().body, gate=gate)
    router = two_entries(ScriptedUpstream(first, json_response()))
    probe = asyncio.ensure_future(router.serve(client_request(request_id="probe")))
    await asyncio.wait_for(gate.reached.wait(), 5)
    leaving = asyncio.ensure_future(router.serve(client_request(request_id="leaving")))
    await eventually(lambda: waiting(router) == 1, what="waiting")
    router.clock.advance(0.75)
    leaving.cancel()
    await eventually(lambda: "leaving" in by_id(router), what="its record")
    assert waiting(router) == 0
    record = by_id(router)["leaving"]
    assert (record.status, record.client_closed) == (499, True)
    (attempt,) = record.attempts
    assert (attempt.provider_id, attempt.outcome) == ("a", Outcome.CLIENT_CLOSED)
    assert attempt.waited_ms == pytest.approx(750.0)
    assert (
        attempt.reason == "client closed the connection while waiting for the entry's first answer"
    )
    gate.open()
    await asyncio.wait_for(probe, 5)
    assert router.upstream.calls == 1


async def test_a_stream_that_commits_is_the_answer_the_waiters_need():
    gate = Gate()
    events = standard_events(("Hel", "lo"))
    first = sse_response(chunk({"role": "assistant", "content": "Hel"}), gate, *events[2:])
    router = two_entries(ScriptedUpstream(first, json_response()), probeWaitMs=5000)
    streaming = asyncio.ensure_future(
        router.serve(client_request(request_id="stream", stream=True), RecordingChannel())
    )
    await asyncio.wait_for(gate.reached.wait(), 5)
    assert waiting(router) == 0
    channel = await asyncio.wait_for(router.serve(client_request(request_id="next")), 5)
    assert channel.answer.headers["X-429chain-Provider"] == "a/a-model"
    assert not streaming.done(), "admitted while the probe's stream still runs"
    gate.open()
    await asyncio.wait_for(streaming, 5)


async def test_probe_wait_ms_changed_live_applies_to_the_next_request():
    gate = Gate()
    first = ScriptedResponse(200, json_response().body, gate=gate)
    router = two_entries(ScriptedUpstream(first, json_response()))
    probe = asyncio.ensure_future(router.serve(client_request(request_id="probe")))
    await asyncio.wait_for(gate.reached.wait(), 5)
    changed = make_config(
        [("a", URL_A), ("b", URL_B)], settings={"probeWaitMs": 0}, provider_types={"a": "openai"}
    )
    router.tracker.reconfigure(tracker_setup(changed))
    router.waterfall.reconfigure(build_routing(changed, router.upstream, router.clock))
    channel = await asyncio.wait_for(router.serve(client_request(request_id="now")), 5)
    assert channel.answer.headers["X-429chain-Provider"] == "b/b-model"
    assert by_id(router)["now"].attempts[0].waited_ms is None
    gate.open()
    await asyncio.wait_for(probe, 5)
