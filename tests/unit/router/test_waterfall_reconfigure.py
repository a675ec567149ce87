"""`Waterfall.reconfigure` through the fakes: a request walks on the configuration it started
with to its end, whatever a change swaps in meanwhile; the next request walks the new one."""

from __future__ import annotations

import asyncio
import dataclasses

from chain429.outcome import Outcome
from chain429.router.plan import tracker_setup
from chain429.router.routing import build_routing
from tests.support.fake_router_io import (
    Gate,
    RecordingChannel,
    Router,
    ScriptedUpstream,
    client_request,
    error_response,
    json_response,
    make_router,
)
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.upstream import completion

URL_A, URL_B, URL_C = "http://a.test/v1", "http://b.test/v1", "http://c.test/v1"
AFTER_KEYS = {"a": {"apiKey": "sk-a-changed-key-0000001"}}
BEFORE = make_config([("a", URL_A), ("b", URL_B)])
AFTER = make_config(
    [("c", URL_C), ("a", URL_A)],
    chain=[("c", "c-model"), ("a", "a-model")],
    provider_extra=AFTER_KEYS,
)


def reconfigure(router: Router, config) -> None:
    router.tracker.reconfigure(tracker_setup(config))
    router.waterfall.reconfigure(build_routing(config, router.upstream, router.clock))


def hosts(router: Router) -> list[str]:
    return [sent.url.split("/")[2] for sent in router.upstream.sent]


async def test_a_walk_under_way_goes_on_along_the_chain_it_started_with() -> None:
    gate = Gate()
    failing = dataclasses.replace(error_response(503), gate=gate)
    served = json_response(200, completion("from b"))
    router = make_router(BEFORE, ScriptedUpstream(failing, served, served))
    channel = RecordingChannel()
    walking = asyncio.ensure_future(router.serve(client_request(), channel))
    await asyncio.wait_for(gate.reached.wait(), 5)

    reconfigure(router, AFTER)  # b is gone, a has another key, c comes first
    gate.open()
    await asyncio.wait_for(walking, 5)

    assert channel.answer.headers["X-429chain-Provider"] == "b/b-model"
    [record] = router.sink.records
    assert [(a.provider_id, a.outcome) for a in record.attempts] == [
        ("a", Outcome.SERVER_ERROR),
        ("b", Outcome.SERVED),
    ]
    after = await router.serve()
    assert after.answer.headers["X-429chain-Provider"] == "c/c-model"
    assert hosts(router) == ["a.test", "b.test", "c.test"]
    assert router.waterfall.routing.config is AFTER


async def test_the_next_request_uses_the_changed_key_at_once() -> None:
    router = make_router(BEFORE, ScriptedUpstream(json_response(200, completion())))
    await router.serve()
    reconfigure(router, make_config([("a", URL_A)], provider_extra=AFTER_KEYS))
    await router.serve()
    assert [sent.key for sent in router.upstream.sent] == [
        BEFORE.provider("a").keys[0],
        "sk-a-changed-key-0000001",
    ]


def _queueing(wait_ms: int):
    """Queue mode over a/a-model, one request a minute, waits of `wait_ms`."""
    return make_config(
        [("a", URL_A)],
        settings={"queueMode": True, "queueMaxWaitMs": wait_ms, "queueMaxSize": 10},
        provider_extra={"a": {"rateLimits": {"requestsPerMinute": 1}}},
    )


def _depth(router: Router) -> int:
    queues = router.waterfall.queues
    assert queues is not None
    return sum(queues.depths().values())


async def test_a_waiter_that_never_walked_gets_a_429_when_its_wait_ends_behind_the_head() -> None:
    """A change shortened `queueMaxWaitMs`: a request that came after it waits behind a head
    that keeps the old, longer wait, and its deadline comes before it ever walked the chain.
    It walks once then and answers 429 with Retry-After, not a 502 "no entry usable until the
    configuration changes" (what a verdict over no notes says)."""
    router = make_router(_queueing(300_000), ScriptedUpstream(json_response()))
    await router.serve()
    head = asyncio.ensure_future(router.serve(client_request(request_id="head")))
    await eventually(lambda: _depth(router) == 1, what="the head in line")
    reconfigure(router, _queueing(10_000))
    later = asyncio.ensure_future(router.serve(client_request(request_id="later")))
    await eventually(lambda: _depth(router) == 2, what="the later request in line")

    router.clock.advance(10)
    channel = await asyncio.wait_for(later, 5)

    assert channel.answer.status == 429
    assert channel.answer.headers["Retry-After"] == "50"
    assert not head.done()
    router.clock.advance(50)
    assert (await asyncio.wait_for(head, 5)).answer.status == 200
