"""The tracker with a probe gate: entries with unknown limits, or after a failure, take only
their probes until an answer arrives."""

from __future__ import annotations

import pytest

from chain429.config.schema import ProviderConfig
from chain429.limits.account import feed
from chain429.limits.metric import KeyLimit, LimitReport, Metric, MetricKind, Scope, Window
from chain429.limits.probe import (
    FAILED_DETAIL,
    SLOW_START_DETAIL,
    UNKNOWN_DETAIL,
    Answer,
    ProbeGate,
)
from chain429.limits.tracker import LimitTracker, Reservation, Skip, SkipReason, policy_from
from chain429.outcome import Outcome
from chain429.router.plan import tracker_setup
from tests.support.clock import START, FakeClock
from tests.support.configs import build_config, entries, key_provider

KEY = "sk-first-key-aaaa1111"
CONFIG = build_config([{"id": "p", "type": "groq", "apiKey": KEY}], {"c": entries(("p", "m"))})


def tracker_with(clock: FakeClock, concurrency: int = 1) -> LimitTracker:
    return LimitTracker(policy_from(CONFIG.settings), clock, probes=ProbeGate(concurrency))


@pytest.fixture
def tracker(clock) -> LimitTracker:
    return tracker_with(clock)


def admitted(tracker: LimitTracker, prov: ProviderConfig, model: str = "m") -> Reservation:
    result = tracker.admit(prov, model)
    assert isinstance(result, Reservation), result
    return result


def probing(tracker: LimitTracker, prov: ProviderConfig, model: str = "m") -> Skip:
    result = tracker.admit(prov, model)
    assert isinstance(result, Skip), result
    assert result.reason is SkipReason.PROBING
    return result


def answer(tracker: LimitTracker, reservation: Reservation, outcome: Outcome, **kw) -> None:
    tracker.release(reservation)
    tracker.record(reservation, outcome, **kw)


def limits(remaining: int, reset_in: float = 60.0) -> LimitReport:
    metric = Metric(MetricKind.REQUESTS, Window.MINUTE, 10, remaining, START + reset_in)
    return LimitReport(metrics=(metric,))


def test_an_unknown_entry_takes_one_probe_and_says_why_the_rest_wait(tracker, clock):
    p = key_provider(KEY)
    probe = admitted(tracker, p)
    assert probe.admitted_at == START
    skip = probing(tracker, p)
    assert (skip.until, skip.detail) == (START, UNKNOWN_DETAIL)
    assert tracker.available_at(p, "m") == START
    assert isinstance(tracker.admit(p, "other"), Reservation), "each model is its own entry"


def test_headers_in_the_answer_admit_the_waiters_against_what_they_say(tracker):
    p = key_provider(KEY)
    probe = admitted(tracker, p)
    tracker.observe(probe, limits(remaining=2))
    answer(tracker, probe, Outcome.SERVED)
    admitted(tracker, p)
    admitted(tracker, p)
    assert tracker.admit(p, "m").reason is SkipReason.REQUESTS_EXHAUSTED


def test_a_probe_that_leaves_without_an_answer_frees_its_place(tracker):
    p = key_provider(KEY)
    probe = admitted(tracker, p)
    tracker.release(probe)  # the client left: no outcome is recorded
    admitted(tracker, p)
    probing(tracker, p)


def test_a_failed_probe_sits_out_its_penalty_then_probes_one_at_a_time(tracker, clock):
    p = key_provider(KEY)
    probe = admitted(tracker, p)
    tracker.observe(probe, limits(remaining=9, reset_in=600))
    answer(tracker, probe, Outcome.SERVER_ERROR)
    assert tracker.admit(p, "m").reason is SkipReason.FAILING
    clock.advance(CONFIG.settings.failure_penalty_ms / 1000)
    again = admitted(tracker, p)
    assert probing(tracker, p).detail == FAILED_DETAIL, "known limits, but the last answer failed"
    answer(tracker, again, Outcome.SERVED)
    admitted(tracker, p)
    admitted(tracker, p)


def test_a_bare_429_from_an_entry_that_states_nothing_puts_it_back_to_probing(tracker, clock):
    p = key_provider(KEY)
    answer(tracker, admitted(tracker, p), Outcome.SERVED)
    answer(tracker, admitted(tracker, p), Outcome.RATE_LIMITED)  # no retry time: nothing learned
    assert tracker.admit(p, "m").reason is SkipReason.COOLING_DOWN
    clock.advance(CONFIG.settings.cooldown_default_ms / 1000)
    admitted(tracker, p)
    assert probing(tracker, p).detail == UNKNOWN_DETAIL


def test_an_unknown_entry_that_serves_without_headers_opens_up_as_it_answers(tracker):
    p = key_provider(KEY)
    probe = admitted(tracker, p)
    answer(tracker, probe, Outcome.SERVED)
    out = [admitted(tracker, p), admitted(tracker, p)]
    assert probing(tracker, p).detail == SLOW_START_DETAIL
    for reservation in out:
        answer(tracker, reservation, Outcome.SERVED)
    out = [admitted(tracker, p) for _ in range(6)]
    probing(tracker, p)


def test_serving_for_over_an_hour_keeps_an_unknown_entry_open(tracker, clock):
    p = key_provider(KEY)
    for _ in range(3):
        answer(tracker, admitted(tracker, p), Outcome.SERVED)
    clock.advance(2 * 3600)
    answer(tracker, admitted(tracker, p), Outcome.SERVED)
    out = [admitted(tracker, p) for _ in range(8)]
    assert probing(tracker, p).detail == SLOW_START_DETAIL
    assert len(out) == 8 and tracker.model_state("p", 0, "m").served_run == 4


def test_a_failure_closes_an_opened_unknown_entry_down_to_its_probes(tracker, clock):
    p = key_provider(KEY)
    for _ in range(5):
        answer(tracker, admitted(tracker, p), Outcome.SERVED)
    answer(tracker, admitted(tracker, p), Outcome.TIMEOUT)
    clock.advance(CONFIG.settings.failure_penalty_ms / 1000)
    probe = admitted(tracker, p)
    assert probing(tracker, p).detail == FAILED_DETAIL
    answer(tracker, probe, Outcome.SERVED)
    admitted(tracker, p)
    admitted(tracker, p)
    assert probing(tracker, p).detail == SLOW_START_DETAIL


def test_a_committed_stream_is_the_answer_and_counts_once(tracker):
    p = key_provider(KEY)
    heard: list[Reservation] = []
    tracker.on_answer(heard.append)
    probe = admitted(tracker, p)
    tracker.committed(probe)
    assert heard == [probe]
    state = tracker.model_state("p", 0, "m")
    assert state is not None and state.answer is Answer.SERVED
    assert (state.learning.served, state.served_run) == (1, 1)
    admitted(tracker, p)
    tracker.committed(probe)
    assert (state.learning.served, state.served_run) == (1, 1)
    answer(tracker, probe, Outcome.SERVED)
    assert heard == [probe, probe, probe]
    assert (state.learning.served, state.served_run) == (1, 1)


def test_every_recorded_outcome_is_heard(tracker):
    p = key_provider(KEY)
    heard: list[Reservation] = []
    tracker.on_answer(heard.append)
    probe = admitted(tracker, p)
    answer(tracker, probe, Outcome.REJECTED)
    assert heard == [probe]
    assert tracker.model_state("p", 0, "m").answer is Answer.NONE


def test_limits_known_from_the_key_endpoint_need_no_probe(tracker):
    p = ProviderConfig.model_validate({"id": "p", "type": "openrouter", "apiKey": KEY})
    key = tracker.ensure_key_state("p", 0)
    feed(key, [KeyLimit(Scope.ACCOUNT, Window.UNKNOWN, 3, 10.0)], START)
    for _ in range(3):
        admitted(tracker, p)
    assert tracker.admit(p, "m").reason is SkipReason.REQUESTS_EXHAUSTED


def test_free_model_limits_make_only_free_models_known(tracker):
    p = ProviderConfig.model_validate({"id": "p", "type": "openrouter", "apiKey": KEY})
    free = KeyLimit(Scope.FREE_MODELS, Window.DAY, 2, 86_400.0)
    feed(tracker.ensure_key_state("p", 0), [free], START)
    admitted(tracker, p, "x:free")
    admitted(tracker, p, "x:free")
    assert tracker.admit(p, "x:free").reason is SkipReason.REQUESTS_EXHAUSTED
    admitted(tracker, p, "paid")
    probing(tracker, p, "paid")


def test_a_second_key_is_probed_while_the_first_one_waits(clock):
    tracker = tracker_with(clock)
    p = key_provider(KEY, "sk-second-key-bbbb2222")
    assert admitted(tracker, p).key_index == 0
    assert admitted(tracker, p).key_index == 1
    probing(tracker, p)


def test_probe_concurrency_lets_that_many_go(clock):
    tracker = tracker_with(clock, concurrency=3)
    p = key_provider(KEY)
    [admitted(tracker, p) for _ in range(3)]
    probing(tracker, p)


def test_without_a_gate_nothing_is_held(clock):
    tracker = LimitTracker(policy_from(CONFIG.settings), clock)
    p = key_provider(KEY)
    assert all(isinstance(tracker.admit(p, "m"), Reservation) for _ in range(20))


def test_a_config_change_sets_how_many_probes_go(clock):
    tracker = LimitTracker.of(tracker_setup(CONFIG), clock)
    p = key_provider(KEY)
    admitted(tracker, p)
    probing(tracker, p)
    wider = CONFIG.model_copy(
        update={"settings": CONFIG.settings.model_copy(update={"probe_concurrency": 3})}
    )
    tracker.reconfigure(tracker_setup(wider))
    admitted(tracker, p)
    admitted(tracker, p)
    probing(tracker, p)
