"""`maxCooldownMs` on the tracker: a retry time or an empty window's reset further off is cut to
it, and every cut is told once to the `on_capped` listeners (a far-off reset of a window that is
not empty benches nothing, so it is cut silently)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chain429.limits.cooldown import CappedWait
from chain429.limits.metric import LimitReport, Metric, MetricKind, Window
from chain429.limits.tracker import LimitTracker, Skip, SkipReason
from chain429.outcome import Outcome
from tests.support.clock import START
from tests.unit.limits.test_tracker_skips import POLICY, P, admitted

MAX_S = 600.0


@pytest.fixture
def capped() -> list[CappedWait]:
    return []


@pytest.fixture
def tracker(clock, capped) -> LimitTracker:
    tracker = LimitTracker(replace(POLICY, max_s=MAX_S), clock)
    tracker.on_capped(capped.append)
    return tracker


def until(tracker: LimitTracker) -> float | None:
    skip = tracker.admit(P, "m")
    assert isinstance(skip, Skip), skip
    return skip.until


def test_a_retry_time_past_the_max_is_cut_and_told(tracker, capped):
    reservation = admitted(tracker)
    tracker.release(reservation)
    tracker.record(reservation, Outcome.RATE_LIMITED, START + 1e9)
    assert until(tracker) == START + MAX_S
    (cut,) = capped
    assert (cut.provider_id, cut.model, cut.asked_s, cut.capped_s) == ("p", "m", 1e9, MAX_S)
    assert cut.told == "retry time 1e+09s"


def test_a_retry_time_within_the_max_is_kept_and_not_told(tracker, capped):
    reservation = admitted(tracker)
    tracker.release(reservation)
    tracker.record(reservation, Outcome.RATE_LIMITED, START + MAX_S - 1)
    assert until(tracker) == START + MAX_S - 1
    assert capped == []


@pytest.mark.parametrize(("remaining", "told"), [(0, 1), (5, 0), (None, 0)])
def test_a_far_reset_is_cut_and_told_only_when_the_window_is_empty(
    tracker, capped, remaining, told
):
    far = Metric(
        MetricKind.REQUESTS,
        Window.DAY,
        limit=10,
        remaining=remaining,
        reset_at=START + 30 * 86_400,
        raw=(("x-ratelimit-reset-requests", "720h"),),
    )
    reservation = admitted(tracker)
    tracker.observe(reservation, LimitReport(metrics=(far,)))
    tracker.release(reservation)
    (window,) = tracker.model_state("p", 0, "m").windows.values()
    assert window.reset_at == START + MAX_S
    assert len(capped) == told
    if told:
        assert capped[0].told == "x-ratelimit-reset-requests: 720h"
        skip = tracker.admit(P, "m")
        assert isinstance(skip, Skip) and skip.reason is SkipReason.REQUESTS_EXHAUSTED
        assert skip.until == START + MAX_S
