"""Whatever outcomes arrive, in whatever order and however far apart, the tracker keeps
answering: admission and recording never raise, and every cooldown is finite and capped."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from chain429.limits.cooldown import MAX_BACKOFF_S
from chain429.limits.manual import manual_limits
from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Window
from chain429.limits.tracker import Demand, LimitTracker, Reservation, policy_from
from chain429.outcome import Outcome
from tests.support.clock import FakeClock
from tests.support.configs import build_config, entries

CONFIG = build_config(
    [
        {
            "id": "p",
            "type": "groq",
            "apiKeys": ["key-one-11111111", "key-two-22222222"],
            "rateLimits": {"concurrentRequests": 3, "requestsPerMinute": 4},
        },
        {"id": "q", "type": "openrouter", "apiKey": "key-q-333333333"},
    ],
    {"c": entries(("p", "m"))},
    cooldownDefaultMs=1000,
)
POLICY = policy_from(CONFIG.settings)
MODELS = ("m", "n", "x:free")
#: The farthest a provider's own reset or retry time lies in these runs.
MAX_RETRY_S = 3 * 86_400.0
CAP_S = max(
    MAX_BACKOFF_S,
    POLICY.default_s,
    POLICY.payment_s,
    POLICY.failure_penalty_s,
    POLICY.mid_stream_max_s,
    MAX_RETRY_S,
)

offsets = st.floats(min_value=-120.0, max_value=MAX_RETRY_S, allow_nan=False)
counts = st.integers(min_value=0, max_value=50) | st.none()
metrics = st.builds(
    lambda kind, window, limit, remaining, reset, scope: (
        kind,
        window,
        limit,
        remaining,
        reset,
        scope,
    ),
    st.sampled_from(MetricKind),
    st.sampled_from(Window),
    counts,
    counts,
    offsets | st.none(),
    st.sampled_from(Scope),
)
outcomes = st.sampled_from(Outcome)
ops = st.one_of(
    st.tuples(
        st.just("admit"),
        st.sampled_from(CONFIG.providers),
        st.sampled_from(MODELS),
        st.integers(min_value=0, max_value=5_000),
    ),
    st.tuples(st.just("observe"), st.integers(min_value=0), st.lists(metrics, max_size=3)),
    st.tuples(
        st.just("record"),
        st.integers(min_value=0),
        # the outcomes that cool an entry down come up more often than the rest
        st.sampled_from([Outcome.RATE_LIMITED, Outcome.MID_STREAM_FAILURE]) | outcomes,
        st.none() | offsets,
        st.sampled_from(Scope),
    ),
    st.tuples(st.just("release"), st.integers(min_value=0), counts),
    st.tuples(st.just("jump"), st.floats(min_value=0.0, max_value=2 * 86_400.0)),
)


def report(drawn: list[tuple], now: float) -> LimitReport:
    return LimitReport(
        metrics=tuple(
            Metric(
                kind, window, limit, remaining, None if reset is None else now + reset, scope=scope
            )
            for kind, window, limit, remaining, reset, scope in drawn
        )
    )


def assert_capped(tracker: LimitTracker, now: float) -> None:
    for _, state in tracker.model_states():
        assert math.isfinite(state.cooldown_until)
        assert state.cooldown_until <= now + CAP_S
    for _, key in tracker.key_states():
        for until in (key.credit_until, key.cooldown_until, key.free_cooldown_until):
            assert math.isfinite(until) and until <= now + CAP_S


@settings(max_examples=300, deadline=None)
@given(
    strikes=st.integers(min_value=0, max_value=10**6),
    escalations=st.integers(min_value=0, max_value=10**6),
    steps=st.lists(ops, max_size=60),
)
def test_random_outcome_sequences_never_raise_and_keep_cooldowns_capped(
    strikes, escalations, steps
):
    clock = FakeClock()
    tracker = LimitTracker(POLICY, clock, limits=manual_limits(CONFIG))
    for provider in CONFIG.providers:
        for model in MODELS:
            state = tracker.ensure_model_state(provider.id, 0, model)
            state.untimed_strikes, state.mid_stream_escalations = strikes, escalations
    seen: list[Reservation] = []
    for op, *args in steps:
        now = clock.now()
        if op == "admit":
            provider, model, tokens = args
            result = tracker.admit(provider, model, Demand(tokens))
            if isinstance(result, Reservation):
                seen.append(result)
            tracker.available_at(provider, model, Demand(tokens))
        elif op == "jump":
            clock.advance(args[0])
        elif seen:
            reservation = seen[args[0] % len(seen)]
            if op == "observe":
                tracker.observe(reservation, report(args[1], now))
            elif op == "record":
                outcome, retry, scope = args[1:]
                retry_at = None if retry is None else now + retry
                tracker.record(reservation, outcome, retry_at, "", scope)
            else:
                tracker.release(reservation, args[1])
        assert_capped(tracker, clock.now())
    for reservation in seen:
        tracker.release(reservation)
    assert all(state.in_flight == 0 for _, state in tracker.model_states())
