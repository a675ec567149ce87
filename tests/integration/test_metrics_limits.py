"""`/metrics` shows the live limit state of the real tracker: cooldowns, quotas, queue depth."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from chain429.app import AppOptions
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.upstream import reply

LIMITED = {"error": {"message": "slow down", "type": "rate_limit"}}
QUOTA = {"x-ratelimit-limit-requests": "30", "x-ratelimit-remaining-requests": "29"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def test_cooldowns_quotas_and_queue_depth_are_exported(upstream_factory, proxy_factory, http):
    clock = FakeClock()
    limited = await upstream_factory(reply(429, LIMITED, {"retry-after": "120"}))
    quota = await upstream_factory(reply(headers=QUOTA))
    config = make_config(
        [("a", limited.base_url), ("b", quota.base_url)],
        settings={"queueMode": True},
        provider_types={"b": "openai"},
    )
    server = await proxy_factory(config, AppOptions(clock=clock))
    assert (await chat(http, server)).status == 200
    async with http.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {CLIENT_KEY}"}
    ) as response:
        assert response.status == 200
        found = samples(await response.text())
    cooling = {
        labels: value
        for (name, labels), value in found.items()
        if name == "chain429_entry_cooldown_remaining_seconds"
    }
    assert [v for labels, v in cooling.items() if ("provider", "a") in labels] == [120.0]
    remaining = [
        value
        for (name, labels), value in found.items()
        if name == "chain429_entry_quota_remaining" and ("provider", "b") in labels
    ]
    assert remaining == [29.0]
    depth = [v for (name, _), v in found.items() if name == "chain429_chain_queue_depth"]
    assert depth == [0.0]
    requests = [
        v
        for (name, labels), v in found.items()
        if name == "chain429_requests_total" and ("provider", "b") in labels
    ]
    assert requests == [1.0]
