"""No header or error body can bench an entry for longer than `maxCooldownMs`: a longer wait is
cut to it, and the cut is logged once, naming the provider and what it said.

A one-entry chain makes the proxy's own 429 show how long the entry sits out (`Retry-After`);
the FakeClock then shows it called again once the capped wait is over.
"""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from chain429.app import AppOptions
from chain429.server import RunningServer
from tests.integration.test_waterfall_cooldowns import assert_benched_for, limited, retry_after
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.proxy import make_config
from tests.support.upstream import Behaviour, FakeUpstream, completion, ok, reply

START = 1_800_000_000.0
MAX_COOLDOWN_S = 600
DEFAULT_COOLDOWN_S = 45
WEEK_S = 7 * 86_400
CUT = "provider wait cut to maxCooldownMs"


async def start(
    upstream_factory,
    proxy_factory,
    *script: Behaviour,
    provider_type: str = "generic-openai",
    max_cooldown_s: int | None = MAX_COOLDOWN_S,
) -> tuple[FakeUpstream, RunningServer, FakeClock]:
    up = await upstream_factory(*script)
    settings = {"cooldownDefaultMs": DEFAULT_COOLDOWN_S * 1000}
    if max_cooldown_s is not None:
        settings["maxCooldownMs"] = max_cooldown_s * 1000
    config = make_config(
        [("a", up.base_url)],
        chain=[("a", "a-model")],
        provider_type=provider_type,
        settings=settings,
    )
    clock = FakeClock(START)
    server = await proxy_factory(config, AppOptions(clock=clock))
    return up, server, clock


def cuts(logs: list[dict]) -> list[dict]:
    return [entry for entry in logs if entry["event"] == CUT]


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "1000000000000"},
        {"retry-after-ms": "1000000000000000"},
        {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1000000000000s"},
    ],
    ids=["retry-after", "retry-after-ms", "reset"],
)
async def test_a_reset_of_10_to_the_12_seconds_benches_for_at_most_max_cooldown(
    upstream_factory, proxy_factory, http, headers
):
    up, server, clock = await start(upstream_factory, proxy_factory, limited(**headers), ok())
    assert retry_after(await chat(http, server)) <= MAX_COOLDOWN_S
    clock.advance(MAX_COOLDOWN_S)
    assert (await chat(http, server)).status == 200
    assert up.calls == 2


async def test_a_retry_after_longer_than_max_cooldown_is_cut_to_it_and_logged_once(
    upstream_factory, proxy_factory, http
):
    up, server, clock = await start(
        upstream_factory, proxy_factory, limited(**{"retry-after": "86400"}), ok()
    )
    with capture_logs() as logs:
        assert retry_after(await chat(http, server)) == MAX_COOLDOWN_S
        assert retry_after(await chat(http, server)) == MAX_COOLDOWN_S, "skipped, not called"
    (cut,) = cuts(logs)
    assert cut["log_level"] == "warning"
    assert (cut["provider"], cut["model"], cut["asked_s"]) == ("a", "a-model", 86400)
    assert cut["capped_s"] == MAX_COOLDOWN_S
    assert "86400" in cut["told"]
    await assert_benched_for(http, server, up, clock, MAX_COOLDOWN_S)


async def test_an_empty_window_resetting_after_max_cooldown_benches_for_max_cooldown(
    upstream_factory, proxy_factory, http
):
    """A served answer saying nothing is left until a reset 30 days away (within what the
    headers may say): the entry is back after `maxCooldownMs`, and the log quotes the headers."""
    headers = {
        "x-ratelimit-limit-requests": "1000",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "720h",
    }
    up, server, clock = await start(
        upstream_factory,
        proxy_factory,
        reply(body=completion(), headers=headers),
        ok(),
        provider_type="groq",
    )
    with capture_logs() as logs:
        assert (await chat(http, server)).status == 200
        assert retry_after(await chat(http, server)) == MAX_COOLDOWN_S
    (cut,) = cuts(logs)
    assert cut["provider"] == "a"
    assert "x-ratelimit-reset-requests: 720h" in cut["told"]
    await assert_benched_for(http, server, up, clock, MAX_COOLDOWN_S)


async def test_a_window_far_off_but_not_empty_is_not_logged(upstream_factory, proxy_factory, http):
    headers = {"x-ratelimit-remaining-requests": "500", "x-ratelimit-reset-requests": "720h"}
    up, server, _ = await start(
        upstream_factory,
        proxy_factory,
        reply(body=completion(), headers=headers),
        provider_type="groq",
    )
    with capture_logs() as logs:
        for _ in range(2):
            assert (await chat(http, server)).status == 200
    assert cuts(logs) == []
    assert up.calls == 2


async def test_the_default_max_cooldown_is_a_week(upstream_factory, proxy_factory, http):
    thirty_days = str(30 * 86_400)
    up, server, clock = await start(
        upstream_factory,
        proxy_factory,
        limited(**{"retry-after": thirty_days}),
        ok(),
        max_cooldown_s=None,
    )
    assert retry_after(await chat(http, server)) == WEEK_S
    await assert_benched_for(http, server, up, clock, WEEK_S)
