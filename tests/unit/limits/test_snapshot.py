"""Limit state survives a restart: cooldowns and windows come back, expired parts do not."""

from __future__ import annotations

import json

from chain429.limits.manual import manual_limits
from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Window
from chain429.limits.snapshot import restore_snapshot, take_snapshot
from chain429.limits.tracker import LimitTracker, Reservation, Skip, SkipReason, policy_from
from chain429.outcome import Outcome
from tests.support.clock import FakeClock
from tests.support.configs import build_config, entries

CONFIG = build_config(
    [
        {"id": "g", "type": "groq", "apiKey": "key-g-123456789"},
        {
            "id": "m",
            "type": "generic-openai",
            "baseUrl": "http://127.0.0.1:1/v1",
            "apiKey": "key-m-123456789",
            "rateLimits": {"requestsPerDay": 3},
        },
    ],
    {"c": entries(("g", "a"), ("m", "b"))},
)
G, M = CONFIG.providers


def tracker(clock: FakeClock) -> LimitTracker:
    return LimitTracker(policy_from(CONFIG.settings), clock, limits=manual_limits(CONFIG))


def admitted(t: LimitTracker, provider, model) -> Reservation:
    result = t.admit(provider, model)
    assert isinstance(result, Reservation), result
    return result


def test_cooldowns_and_windows_come_back_after_a_restart():
    clock = FakeClock()
    before = tracker(clock)
    r = admitted(before, G, "a")
    metric = Metric(MetricKind.REQUESTS, Window.DAY, 100, 0, clock.now() + 3600)
    before.observe(r, LimitReport(metrics=(metric,)))
    before.release(r)
    r = admitted(before, M, "b")
    before.release(r)
    r = admitted(before, M, "b")
    before.record(r, Outcome.RATE_LIMITED, clock.now() + 120)
    before.release(r)

    data = json.loads(json.dumps(take_snapshot(before, clock.now())))
    after = tracker(clock)
    assert restore_snapshot(after, CONFIG, data, clock.now()) == 2

    skip = after.admit(G, "a")
    assert isinstance(skip, Skip) and skip.reason is SkipReason.REQUESTS_EXHAUSTED
    assert skip.until == clock.now() + 3600
    cooled = after.admit(M, "b")
    assert isinstance(cooled, Skip) and cooled.reason is SkipReason.COOLING_DOWN
    clock.advance(121)
    r = admitted(after, M, "b")
    after.release(r)
    exhausted = after.admit(M, "b")
    assert isinstance(exhausted, Skip), "the manual daily window kept its count (1 + 1 + 1 of 3)"


def test_a_failure_penalty_comes_back_as_a_penalty():
    clock = FakeClock()
    before = tracker(clock)
    r = admitted(before, G, "a")
    before.release(r)
    before.record(r, Outcome.SERVER_ERROR, None, "HTTP 503")

    data = json.loads(json.dumps(take_snapshot(before, clock.now())))
    after = tracker(clock)
    assert restore_snapshot(after, CONFIG, data, clock.now()) == 1
    skip = after.admit(G, "a")
    assert isinstance(skip, Skip) and (skip.reason, skip.detail) == (SkipReason.FAILING, "HTTP 503")


def test_expired_parts_and_unknown_providers_are_dropped():
    clock = FakeClock()
    before = tracker(clock)
    r = admitted(before, G, "a")
    before.observe(
        r,
        LimitReport(
            metrics=(
                Metric(MetricKind.REQUESTS, Window.MINUTE, 30, 0, clock.now() + 30),
                Metric(MetricKind.TOKENS, Window.DAY, 10, 5, clock.now() + 5, scope=Scope.ACCOUNT),
            )
        ),
    )
    before.release(r)
    data = take_snapshot(before, clock.now())
    clock.advance(60)
    after = tracker(clock)
    assert restore_snapshot(after, CONFIG, data, clock.now()) == 2
    assert isinstance(after.admit(G, "a"), Reservation)
    data["entries"][0]["provider"] = "gone"
    assert restore_snapshot(tracker(clock), CONFIG, data, clock.now()) == 1
    assert restore_snapshot(tracker(clock), CONFIG, {"version": 99}, clock.now()) == 0
    assert restore_snapshot(tracker(clock), CONFIG, "garbage", clock.now()) == 0
