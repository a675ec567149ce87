"""The status APIs report what admission sees, name keys only by label, and change nothing."""

from __future__ import annotations

import json

import aiohttp
import openai
import pytest

from chain429.app import AppOptions
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator
from chain429.state import STATE
from tests.support.clock import FakeClock
from tests.support.proxy import CLIENT_KEY, PROVIDER_KEY, make_config

AUTH = {"Authorization": f"Bearer {CLIENT_KEY}"}
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def running(proxy_factory, client_factory):
    clock = FakeClock()
    sim = Simulator(
        [SimProviderConfig(name="g", dialect=Dialect.GROQ, requests_per_window=2)], clock=clock
    )
    await sim.start()
    config = make_config([("g", sim.base_url("g"))], provider_type="groq")
    server = await proxy_factory(config, AppOptions(clock=clock))
    async with aiohttp.ClientSession(headers=AUTH) as http:
        yield clock, server, client_factory(server), http
    await sim.stop()


async def get(http: aiohttp.ClientSession, url: str) -> dict:
    async with http.get(url) as response:
        assert response.status == 200
        text = await response.text()
    assert PROVIDER_KEY not in text and PROVIDER_KEY[-8:] not in text
    return json.loads(text)


async def test_original_shape_moves_from_available_to_exhausted(running):
    clock, server, client, http = running
    before = await get(http, f"{server.url}/v1/ratelimits")
    assert before["ratelimits"] == [
        {
            "provider": "g",
            "model": "g-model",
            "status": "available",
            "cooldownUntil": None,
            "reason": None,
            "inFlight": 0,
            "quota": None,
        }
    ]
    assert before["activeEntries"] == 1
    assert before["stateStore"] == "memory"
    assert before["queue"]["enabled"] is False

    await client.chat.completions.create(model="default", messages=MESSAGES)
    tracking = (await get(http, f"{server.url}/v1/ratelimits"))["ratelimits"][0]
    assert tracking["status"] == "tracking"
    assert tracking["quota"]["remainingRequests"] == 1
    assert 59_000 <= tracking["quota"]["resetRequestsMs"] <= 60_500

    await client.chat.completions.create(model="default", messages=MESSAGES)
    exhausted = await get(http, f"{server.url}/v1/ratelimits")
    assert exhausted["ratelimits"][0]["status"] == "exhausted"
    assert exhausted["activeEntries"] == 0

    clock.advance(61)
    refilled = await get(http, f"{server.url}/v1/ratelimits")
    assert refilled["ratelimits"][0]["quota"]["remainingRequests"] == 2


async def test_detailed_status_lists_every_metric_with_its_source(running):
    clock, server, client, http = running
    await client.chat.completions.create(model="default", messages=MESSAGES)
    body = await get(http, f"{server.url}/api/ratelimits")
    (entry,) = body["entries"]
    assert entry["keyLabel"] == "…" + PROVIDER_KEY[-4:]
    assert entry["inFlight"] == 0
    requests = next(m for m in entry["metrics"] if m["kind"] == "requests")
    assert requests["source"] == "header"
    assert requests["limit"] == 2 and requests["remaining"] == 1
    assert "x-ratelimit-remaining-requests" in requests["raw"]


async def test_reading_status_changes_nothing(running):
    clock, server, client, http = running
    await client.chat.completions.create(model="default", messages=MESSAGES)
    await client.chat.completions.create(model="default", messages=MESSAGES)
    tracker = server.app[STATE].tracker
    states_before = dict(tracker.model_states())
    _, state = next(tracker.model_states())
    window = next(iter(state.windows.values()))
    snapshot = (window.remaining, window.reset_at, window.in_flight)
    clock.advance(61)
    first = await get(http, f"{server.url}/api/ratelimits")
    second = await get(http, f"{server.url}/api/ratelimits")
    assert first["entries"] == second["entries"]
    assert dict(tracker.model_states()) == states_before
    assert (window.remaining, window.reset_at, window.in_flight) == snapshot


async def test_an_entry_reached_as_provider_slash_model_is_listed(running):
    clock, server, client, http = running
    await client.chat.completions.create(model="g/g-direct", messages=MESSAGES)
    entries = (await get(http, f"{server.url}/api/ratelimits"))["entries"]
    assert [(e["provider"], e["model"]) for e in entries] == [("g", "g-model"), ("g", "g-direct")]
    direct = entries[1]
    assert direct["keyLabel"] == "…" + PROVIDER_KEY[-4:]
    assert direct["status"] == "tracking"
    assert any(m["kind"] == "requests" and m["remaining"] == 1 for m in direct["metrics"])


async def test_a_failure_penalty_is_failing_not_exhausted(running):
    clock, server, client, http = running
    sim_url = server.app[STATE].config.providers[0].base_url
    assert sim_url is not None
    async with http.post(
        sim_url.removesuffix("/v1") + "/_control", json={"error_rate": 1.0, "error_status": 503}
    ) as configured:
        assert configured.status == 200, await configured.text()
    with pytest.raises(openai.APIStatusError):
        await client.chat.completions.create(model="default", messages=MESSAGES)

    (entry,) = (await get(http, f"{server.url}/api/ratelimits"))["entries"]
    assert entry["status"] == "failing"
    assert entry["reason"].startswith("HTTP 503")
    assert entry["cooldownUntil"] == round((clock.now() + 5) * 1000)
    original = await get(http, f"{server.url}/v1/ratelimits")
    assert original["ratelimits"][0]["status"] == "failing"
    assert original["activeEntries"] == 0

    clock.advance(5)
    (entry,) = (await get(http, f"{server.url}/api/ratelimits"))["entries"]
    assert (entry["status"], entry["cooldownUntil"]) == ("tracking", None)
