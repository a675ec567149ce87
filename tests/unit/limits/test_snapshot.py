"""Limit state survives a restart: cooldowns and windows come back, expired parts do not."""

from __future__ import annotations

import json

import pytest

from chain429.clock import UTC_ZONE, next_midnight
from chain429.limits.manual import manual_limits
from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Source, Window
from chain429.limits.snapshot import restore_snapshot, shifted_snapshot, take_snapshot
from chain429.limits.tracker import LimitTracker, Reservation, Skip, SkipReason, policy_from
from chain429.limits.window import WindowState
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
START = 1_800_000_000.0


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


def window(kind, span, limit, remaining, reset_at, updated_at=START - 10) -> WindowState:
    return WindowState(kind, span, limit, remaining, reset_at, Source.HEADER, updated_at)


def saved(kind, span, limit, remaining, reset_at, scope=None) -> dict:
    data = {
        "kind": kind.value,
        "window": span.value,
        "limit": limit,
        "remaining": remaining,
        "resetAt": reset_at,
        "source": "header",
        "updatedAt": START - 10,
    }
    return data if scope is None else data | {"scope": scope.value}


def filled(t: LimitTracker) -> None:
    """Live and expired state of every kind: only the live parts are saved."""
    dead = t.ensure_model_state("g", 0, "dead")
    dead.cooldown_until, dead.reason = START, "ended just now"
    dead.windows[(MetricKind.REQUESTS, Window.MINUTE)] = window(
        MetricKind.REQUESTS, Window.MINUTE, 9, 0, START
    )
    dead.windows[(MetricKind.TOKENS, Window.MINUTE)] = window(
        MetricKind.TOKENS, Window.MINUTE, 9, None, START + 9
    )
    cooling = t.ensure_model_state("g", 0, "a")
    cooling.cooldown_until, cooling.reason, cooling.penalised = START + 120, "HTTP 503", True
    cooling.windows[(MetricKind.REQUESTS, Window.DAY)] = window(
        MetricKind.REQUESTS, Window.DAY, 100, 0, START + 3600
    )
    counting = t.ensure_model_state("g", 0, "b")
    counting.reason = "an old reason"
    counting.windows[(MetricKind.TOKENS, Window.MINUTE)] = window(
        MetricKind.TOKENS, Window.MINUTE, None, 500, START + 30
    )
    t.ensure_key_state("g", 0).credit_until = START  # over
    key = t.ensure_key_state("m", 0)
    key.credit_until, key.cooldown_until, key.free_cooldown_until = START + 1, START + 2, START + 3
    key.reason = "free-models-per-day"
    key.windows[(MetricKind.REQUESTS, Window.DAY, Scope.ACCOUNT)] = window(
        MetricKind.REQUESTS, Window.DAY, 50, 5, START + 50
    )
    key.windows[(MetricKind.REQUESTS, Window.DAY, Scope.FREE_MODELS)] = window(
        MetricKind.REQUESTS, Window.DAY, 20, 0, START + 60
    )


EXPECTED = {
    "version": 1,
    "savedAt": START,
    "entries": [
        {
            "provider": "g",
            "slot": 0,
            "model": "a",
            "cooldownUntil": START + 120,
            "reason": "HTTP 503",
            "penalised": True,
            "windows": [saved(MetricKind.REQUESTS, Window.DAY, 100, 0, START + 3600)],
        },
        {
            "provider": "g",
            "slot": 0,
            "model": "b",
            "cooldownUntil": None,
            "reason": "",
            "penalised": False,
            "windows": [saved(MetricKind.TOKENS, Window.MINUTE, None, 500, START + 30)],
        },
    ],
    "keys": [
        {
            "provider": "m",
            "index": 0,
            "reason": "free-models-per-day",
            "windows": [
                saved(MetricKind.REQUESTS, Window.DAY, 50, 5, START + 50, Scope.ACCOUNT),
                saved(MetricKind.REQUESTS, Window.DAY, 20, 0, START + 60, Scope.FREE_MODELS),
            ],
            "creditUntil": START + 1,
            "cooldownUntil": START + 2,
            "freeCooldownUntil": START + 3,
        }
    ],
}


def test_a_snapshot_holds_exactly_the_live_parts():
    t = tracker(FakeClock(START))
    filled(t)
    assert take_snapshot(t, START) == EXPECTED


def test_a_restored_snapshot_saves_again_as_it_was():
    clock = FakeClock(START)
    after = tracker(clock)
    assert restore_snapshot(after, CONFIG, json.loads(json.dumps(EXPECTED)), START) == 3
    assert take_snapshot(after, START) == EXPECTED


def test_what_a_snapshot_does_not_say_is_restored_as_nothing():
    clock = FakeClock(START)
    after = tracker(clock)
    data = {
        "version": 1,
        "entries": [{"provider": "g", "slot": 0, "model": "a", "cooldownUntil": START + 9}],
        "keys": [{"provider": "g", "index": 0, "cooldownUntil": START + 9}],
    }
    assert restore_snapshot(after, CONFIG, data, START) == 2
    state, key = after.model_state("g", 0, "a"), after.key_state("g", 0)
    assert state is not None and key is not None
    assert (state.reason, state.penalised, key.reason) == ("", False, "")
    assert (key.credit_until, key.free_cooldown_until) == (0.0, 0.0)


def test_a_cooldown_ending_at_the_restart_is_not_restored():
    after = tracker(FakeClock(START))
    data = {
        "version": 1,
        "entries": [{"provider": "g", "slot": 0, "model": "a", "cooldownUntil": START}],
    }
    assert restore_snapshot(after, CONFIG, data, START) == 1
    state = after.model_state("g", 0, "a")
    assert state is not None and state.cooldown_until == 0.0


def test_items_that_do_not_fit_the_config_are_skipped_and_the_rest_restored():
    after = tracker(FakeClock(START))
    good = {"provider": "g", "slot": 0, "model": "a", "cooldownUntil": START + 9}
    data = {
        "version": 1,
        "entries": [
            {"provider": "g", "slot": 1, "model": "a"},
            {"provider": "g", "slot": -1, "model": "a"},
            {"provider": "g", "slot": "0", "model": "a"},
            {"provider": "g", "slot": 0, "model": 7},
            {"provider": "gone", "slot": 0, "model": "a"},
            "not an item",
            good,
        ],
        "keys": [
            {"provider": "g", "index": 1, "cooldownUntil": START + 9},
            {"provider": "g", "index": "0", "cooldownUntil": START + 9},
            {"provider": "gone", "index": 0, "cooldownUntil": START + 9},
            {"provider": "m", "index": 0, "cooldownUntil": START + 9},
        ],
    }
    assert restore_snapshot(after, CONFIG, data, START) == 2
    assert [k for k, _ in after.model_states()] == [("g", 0, "a")]
    assert [k for k, _ in after.key_states()] == [("m", 0)]
    assert restore_snapshot(after, CONFIG, {"version": 1, "entries": {"a": good}}, START) == 0


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "bytes"},
        {"window": "fortnight"},
        {"source": "rumour"},
        {"resetAt": None},
        {"resetAt": START},
        {"remaining": None},
        {"remaining": "5"},
        {"limit": "50"},
    ],
)
def test_a_window_that_cannot_be_read_or_has_expired_is_dropped(change):
    after = tracker(FakeClock(START))
    raw = saved(MetricKind.REQUESTS, Window.DAY, 50, 5, START + 50, Scope.ACCOUNT) | change
    entry = {"provider": "g", "slot": 0, "model": "a", "windows": [raw]}
    key = {"provider": "g", "index": 0, "windows": [raw]}
    restore_snapshot(after, CONFIG, {"version": 1, "entries": [entry], "keys": [key]}, START)
    state, key_state = after.model_state("g", 0, "a"), after.key_state("g", 0)
    assert state is not None and state.windows == {}
    assert key_state is not None and key_state.windows == {}


def test_a_window_without_a_limit_or_an_update_time_is_read():
    after = tracker(FakeClock(START))
    raw = saved(MetricKind.TOKENS, Window.DAY, None, 5, START + 50)
    del raw["updatedAt"]
    entry = {"provider": "g", "slot": 0, "model": "a", "windows": [raw]}
    restore_snapshot(after, CONFIG, {"version": 1, "entries": [entry]}, START)
    state = after.model_state("g", 0, "a")
    assert state is not None
    restored = state.windows[(MetricKind.TOKENS, Window.DAY)]
    assert (restored.limit, restored.remaining, restored.updated_at) == (None, 5, START)
    assert restored.source is Source.HEADER


def test_a_key_window_without_a_scope_is_dropped():
    after = tracker(FakeClock(START))
    raw = saved(MetricKind.REQUESTS, Window.DAY, 50, 5, START + 50)
    restore_snapshot(
        after,
        CONFIG,
        {"version": 1, "keys": [{"provider": "g", "index": 0, "windows": [raw]}]},
        START,
    )
    key = after.key_state("g", 0)
    assert key is not None and key.windows == {}


def test_a_restored_manual_window_rolls_on_to_its_own_reset():
    clock = FakeClock(START)
    after = tracker(clock)
    raw = saved(MetricKind.REQUESTS, Window.DAY, 3, 0, START + 50) | {"source": "manual"}
    entry = {"provider": "m", "slot": 0, "model": "b", "windows": [raw]}
    restore_snapshot(after, CONFIG, {"version": 1, "entries": [entry]}, START)
    clock.advance(51)
    reservation = admitted(after, M, "b")
    after.release(reservation)
    state = after.model_state("m", 0, "b")
    assert state is not None
    rolled = state.windows[(MetricKind.REQUESTS, Window.DAY)]
    assert rolled.reset_at == next_midnight(clock.now(), UTC_ZONE)


def test_an_unreadable_window_does_not_drop_the_ones_after_it():
    after = tracker(FakeClock(START))
    good = saved(MetricKind.REQUESTS, Window.DAY, 50, 5, START + 50)
    bad = good | {"kind": "bytes"}
    entry = {"provider": "g", "slot": 0, "model": "a", "windows": [bad, good]}
    restore_snapshot(after, CONFIG, {"version": 1, "entries": [entry]}, START)
    state = after.model_state("g", 0, "a")
    assert state is not None and list(state.windows) == [(MetricKind.REQUESTS, Window.DAY)]


def learned_tracker(clock: FakeClock) -> LimitTracker:
    """A tracker that learned 2 requests per 10 s window on G's model `quiet` (no headers)."""
    t = tracker(clock)
    for _ in range(2):
        r = admitted(t, G, "quiet")
        t.release(r)
        t.record(r, Outcome.SERVED)
    r = admitted(t, G, "quiet")
    t.release(r)
    t.record(r, Outcome.RATE_LIMITED, clock.now() + 10)
    return t


def test_a_learned_limit_is_saved_with_its_live_window_and_comes_back():
    clock = FakeClock(START)
    data = json.loads(json.dumps(take_snapshot(learned_tracker(clock), clock.now())))
    (entry,) = data["entries"]
    assert entry["learned"] == {"limit": 2, "periodS": pytest.approx(10.1)}
    assert [w["source"] for w in entry["windows"]] == ["learned"]

    after = tracker(clock)
    assert restore_snapshot(after, CONFIG, data, clock.now()) == 1
    skip = after.admit(G, "quiet")
    assert isinstance(skip, Skip) and skip.reason is SkipReason.COOLING_DOWN
    clock.advance(10.1)
    first, second = admitted(after, G, "quiet"), admitted(after, G, "quiet")
    assert first.windows[0].source is Source.LEARNED and second.windows
    assert after.admit(G, "quiet").reason is SkipReason.REQUESTS_EXHAUSTED


def test_a_learned_limit_outlives_its_window():
    clock = FakeClock(START)
    before = learned_tracker(clock)
    clock.advance(3600)
    data = json.loads(json.dumps(take_snapshot(before, clock.now())))
    (entry,) = data["entries"]
    assert entry["windows"] == [] and entry["cooldownUntil"] is None
    assert entry["learned"]["limit"] == 2

    after = tracker(clock)
    assert restore_snapshot(after, CONFIG, data, clock.now()) == 1
    admitted(after, G, "quiet")
    admitted(after, G, "quiet")
    skip = after.admit(G, "quiet")
    assert isinstance(skip, Skip) and skip.reason is SkipReason.REQUESTS_EXHAUSTED
    assert skip.until == pytest.approx(clock.now() + 10.1)


def test_a_learned_window_without_its_limit_is_not_restored():
    clock = FakeClock(START)
    data = json.loads(json.dumps(take_snapshot(learned_tracker(clock), clock.now())))
    del data["entries"][0]["learned"]
    after = tracker(clock)
    restore_snapshot(after, CONFIG, data, clock.now())
    state = after.model_state("g", 0, "quiet")
    assert state is not None and state.windows == {}


def test_a_snapshot_moved_to_the_wall_clock_and_back_is_the_same():
    # A tracker runs on the steady timeline; the saved snapshot is on the wall clock.
    on_wall = shifted_snapshot(EXPECTED, 3600.0)
    assert on_wall["savedAt"] == EXPECTED["savedAt"] + 3600
    assert on_wall["keys"][0]["creditUntil"] == START + 1 + 3600
    assert all(
        moved["resetAt"] == kept["resetAt"] + 3600 and moved["limit"] == kept["limit"]
        for entry, entry_kept in zip(on_wall["entries"], EXPECTED["entries"], strict=True)
        for moved, kept in zip(entry["windows"], entry_kept["windows"], strict=True)
    )
    assert shifted_snapshot(on_wall, -3600.0) == EXPECTED
    assert shifted_snapshot(EXPECTED, 0.0) is EXPECTED


def test_moving_a_corrupt_snapshot_leaves_what_is_not_a_time():
    data = {"version": 1, "entries": [{"cooldownUntil": "soon", "resetAt": True}, 7], "x": None}
    assert shifted_snapshot(data, 60.0) == data
