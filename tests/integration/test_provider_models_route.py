"""`GET /api/providers/{id}/models` reads a provider's own `/models`: from the simulator, kept
a few minutes on the proxy's clock, shared by concurrent callers, bounded in time against an
upstream that never answers, and upstream errors reported without the key."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from chain429.app import AppOptions
from chain429.sim.config import SimProviderConfig
from chain429.sim.simulator import Simulator
from chain429.tasks import create_task
from tests.support.client import send
from tests.support.clock import FakeClock
from tests.support.polling import eventually
from tests.support.proxy import PROVIDER_KEY, make_config
from tests.support.upstream import closed_port_url, gated, hang, model_list, ok, reply

START = 1_800_000_000.0


@pytest.fixture
async def sim():
    simulator = Simulator([SimProviderConfig(name="g", models=("llama-fast", "llama-big"))])
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_the_simulator_lists_its_models_through_the_proxy(sim, proxy_factory, http):
    server = await proxy_factory(make_config([("g", sim.base_url("g"))]))

    answer = await send(http, server, "/api/providers/g/models", method="GET")

    assert answer.status == 200
    body = answer.json()
    assert body["provider"] == "g"
    assert [m["id"] for m in body["models"]] == ["llama-fast", "llama-big"]
    assert body["models"][0] == {"id": "llama-fast", "ownedBy": "g", "created": 1_700_000_000}
    assert body["fetchedAt"].endswith("Z")


async def test_a_list_is_kept_a_few_minutes_on_the_proxys_clock(sim, proxy_factory, http):
    clock = FakeClock(START)
    server = await proxy_factory(make_config([("g", sim.base_url("g"))]), AppOptions(clock=clock))

    first = await send(http, server, "/api/providers/g/models", method="GET")
    clock.advance(299)
    second = await send(http, server, "/api/providers/g/models", method="GET")
    assert sim.stats("g")["models_requests"] == 1
    assert second.json() == first.json()
    assert first.json()["fetchedAt"] == "2027-01-15T08:00:00.000Z"

    clock.advance(1)
    third = await send(http, server, "/api/providers/g/models", method="GET")
    assert sim.stats("g")["models_requests"] == 2
    assert third.json()["fetchedAt"] == "2027-01-15T08:05:00.000Z"


async def test_concurrent_callers_share_one_fetch(upstream_factory, proxy_factory, http):
    gate = asyncio.Event()
    upstream = await upstream_factory(ok())
    upstream.models = [gated(model_list("m1", "m2"), gate)]
    server = await proxy_factory(make_config([("p", upstream.base_url)]))

    callers = [
        create_task(send(http, server, "/api/providers/p/models", method="GET"), name=f"c{i}")
        for i in range(3)
    ]
    await eventually(lambda: upstream.models_calls, what="the fetch under way")
    gate.set()
    answers = await asyncio.gather(*callers)

    assert [a.status for a in answers] == [200, 200, 200]
    assert {tuple(m["id"] for m in a.json()["models"]) for a in answers} == {("m1", "m2")}
    assert upstream.models_calls == 1


async def test_an_upstream_that_never_answers_is_a_504_at_the_timeout(
    upstream_factory, proxy_factory, http
):
    upstream = await upstream_factory(ok())
    upstream.models = [hang()]
    config = make_config([("p", upstream.base_url)], provider_extra={"p": {"timeout": 200}})
    server = await proxy_factory(config)

    answer = await send(http, server, "/api/providers/p/models", method="GET")

    assert answer.status == 504
    assert answer.error["code"] == "upstream_timeout"
    assert answer.error["type"] == "upstream_error"
    assert answer.error["message"] == "Provider 'p' did not answer GET /models within 0.2s."
    health = await send(http, server, "/health", method="GET")
    assert health.status == 200


async def test_an_upstream_error_is_a_502_with_its_status_and_no_key(
    upstream_factory, proxy_factory, http
):
    upstream = await upstream_factory(ok())
    echo = {"error": {"message": f"Incorrect API key provided: {PROVIDER_KEY}"}}
    upstream.models = [reply(401, echo), model_list("back")]
    server = await proxy_factory(make_config([("p", upstream.base_url)]))

    answer = await send(http, server, "/api/providers/p/models", method="GET")

    assert answer.status == 502
    assert answer.error["code"] == "upstream_error"
    assert "HTTP 401" in answer.error["message"]
    assert "Incorrect API key provided" in answer.error["message"]
    assert PROVIDER_KEY[-8:].encode() not in answer.body
    assert upstream.headers_seen[-1]["Authorization"] == f"Bearer {PROVIDER_KEY}"

    again = await send(http, server, "/api/providers/p/models", method="GET")
    assert again.status == 200  # an error is not kept
    assert upstream.models_calls == 2


async def test_a_body_that_is_no_model_list_is_a_502(upstream_factory, proxy_factory, http):
    upstream = await upstream_factory(ok())
    upstream.models = [reply(body={"hello": "world"})]
    server = await proxy_factory(make_config([("p", upstream.base_url)]))

    answer = await send(http, server, "/api/providers/p/models", method="GET")

    assert answer.status == 502
    assert answer.error["code"] == "upstream_bad_response"


async def test_a_refused_connection_is_a_502(proxy_factory, http):
    server = await proxy_factory(make_config([("p", closed_port_url())]))

    answer = await send(http, server, "/api/providers/p/models", method="GET")

    assert answer.status == 502
    assert answer.error["code"] == "upstream_error"
    assert "cannot connect" in answer.error["message"]


async def test_an_unknown_provider_is_a_404(proxy_factory, http):
    server = await proxy_factory(make_config([("p", closed_port_url())]))

    answer = await send(http, server, "/api/providers/nobody/models", method="GET")

    assert answer.status == 404
    assert answer.error["code"] == "provider_not_found"
    assert orjson.loads(answer.body)["error"]["message"] == "Provider 'nobody' not found."


async def test_the_route_needs_a_client_key(proxy_factory, http):
    server = await proxy_factory(make_config([("p", closed_port_url())]))

    answer = await send(http, server, "/api/providers/p/models", method="GET", key=None)

    assert answer.status == 401
