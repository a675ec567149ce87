"""`LimitTracker.reconfigure` on the fake clock: state follows each key wherever the change put
it, removed providers, keys and entries lose theirs, a changed key starts fresh, manual windows
follow changed limits, and reservations granted before a change end without harm."""

from __future__ import annotations

from typing import Any

from chain429.config.schema import Config, ProviderConfig
from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, Window
from chain429.limits.snapshot import restore_snapshot, take_snapshot
from chain429.limits.tracker import LimitTracker, Reservation, Skip, SkipReason
from chain429.outcome import Outcome
from chain429.router.plan import tracker_setup
from tests.support.clock import START, FakeClock
from tests.support.configs import build_config, entries

A, B, C = "sk-key-a-00000000aaaa", "sk-key-b-00000000bbbb", "sk-key-c-00000000cccc"


def config(
    *keys: str,
    models: tuple[str, ...] = ("m",),
    limits: dict[str, int] | None = None,
    **extra: Any,
) -> Config:
    """Provider `p` (groq: each key its own limits) with `keys`, and provider `q`; chain `c`
    lists `models` of `p` (with `limits` as the entries' rateLimits), then `q/n`."""
    p: dict[str, Any] = {"id": "p", "type": "groq", "apiKeys": list(keys), **extra}
    q = {"id": "q", "type": "groq", "apiKey": "sk-key-q-00000000qqqq"}
    chain = [
        {"provider": "p", "model": m, **({"rateLimits": limits} if limits else {})} for m in models
    ]
    return build_config([p, q], {"c": [*chain, *entries(("q", "n"))]})


def tracker_for(cfg: Config, clock: FakeClock) -> LimitTracker:
    return LimitTracker.of(tracker_setup(cfg), clock)


def change(tracker: LimitTracker, cfg: Config, *revised: str) -> Config:
    tracker.reconfigure(tracker_setup(cfg), frozenset(revised))
    return cfg


def admitted(tracker: LimitTracker, provider: ProviderConfig, model: str = "m") -> Reservation:
    result = tracker.admit(provider, model)
    assert isinstance(result, Reservation), result
    return result


def skipped(tracker: LimitTracker, provider: ProviderConfig, model: str = "m") -> Skip:
    result = tracker.admit(provider, model)
    assert isinstance(result, Skip), result
    return result


def ended(tracker: LimitTracker, provider: ProviderConfig, outcome: Outcome, **kw: Any) -> str:
    """One attempt on `provider` that ended with `outcome`; the key it used."""
    reservation = admitted(tracker, provider, kw.pop("model", "m"))
    tracker.release(reservation)
    tracker.record(reservation, outcome, kw.pop("retry_at", None))
    return reservation.api_key


def p_of(cfg: Config) -> ProviderConfig:
    return cfg.provider("p")


def test_reordered_keys_keep_their_own_state(clock):
    before = config(A, B)
    tracker = tracker_for(before, clock)
    assert ended(tracker, p_of(before), Outcome.RATE_LIMITED, retry_at=START + 30) == A
    assert ended(tracker, p_of(before), Outcome.PAYMENT_REQUIRED) == B

    after = change(tracker, config(B, A))

    skip = skipped(tracker, p_of(after))
    assert (skip.reason, skip.until) == (SkipReason.COOLING_DOWN, START + 30), "B: out of credit"
    cooling = tracker.model_state("p", 1, "m")
    assert cooling is not None and cooling.cooldown_until == START + 30
    assert tracker.key_state("p", 0) is not None
    assert tracker.key_state("p", 0).credit_until > START  # type: ignore[union-attr]
    clock.advance(30)
    assert admitted(tracker, p_of(after)).api_key == A


def test_an_added_key_serves_while_the_others_keep_their_cooldowns(clock):
    before = config(A)
    tracker = tracker_for(before, clock)
    ended(tracker, p_of(before), Outcome.RATE_LIMITED, retry_at=START + 60)

    after = change(tracker, config(C, A))

    first = admitted(tracker, p_of(after))
    assert (first.api_key, first.key_index) == (C, 0)
    assert tracker.model_state("p", 1, "m").cooldown_until == START + 60  # type: ignore[union-attr]


def test_a_changed_key_starts_fresh_and_a_key_set_aside_comes_back(clock):
    before = config(A, B)
    tracker = tracker_for(before, clock)
    ended(tracker, p_of(before), Outcome.AUTH_FAILED)  # A set aside
    ended(tracker, p_of(before), Outcome.RATE_LIMITED, retry_at=START + 30)  # B cooling
    assert skipped(tracker, p_of(before)).reason is SkipReason.COOLING_DOWN

    after = change(tracker, config(C, B))

    assert admitted(tracker, p_of(after)).api_key == C
    assert tracker.model_state("p", 1, "m").cooldown_until == START + 30  # type: ignore[union-attr]
    assert tracker.key_state("p", 0).disabled is None  # type: ignore[union-attr]


def test_removed_providers_keys_and_entries_lose_their_state(clock):
    before = config(A, B, models=("m", "gone"))
    tracker = tracker_for(before, clock)
    q = before.provider("q")
    ended(tracker, q, Outcome.RATE_LIMITED, model="n", retry_at=START + 30)
    ended(tracker, p_of(before), Outcome.RATE_LIMITED, model="gone", retry_at=START + 30)
    ended(tracker, p_of(before), Outcome.AUTH_FAILED)  # A set aside
    ended(tracker, p_of(before), Outcome.SERVER_ERROR, model="direct")  # B, as provider/model
    ended(tracker, p_of(before), Outcome.PAYMENT_REQUIRED)  # B out of credit

    no_q = build_config([{"id": "p", "type": "groq", "apiKeys": [B]}], {"c": entries(("p", "m"))})
    change(tracker, no_q)

    keys = {k for k, _ in tracker.key_states()}
    models = {k for k, _ in tracker.model_states()}
    assert keys == {("p", 0)} and tracker.key_state("p", 0).credit_until > START  # type: ignore[union-attr]
    assert models == {("p", 0, "m"), ("p", 0, "direct")}, "q, key A and entry p/gone are gone"
    assert skipped(tracker, no_q.provider("p"), "direct").reason is SkipReason.OUT_OF_CREDIT


def test_a_reservation_granted_before_a_reorder_teaches_the_key_it_used(clock):
    before = config(A, B)
    tracker = tracker_for(before, clock)
    in_flight = admitted(tracker, p_of(before))
    assert in_flight.api_key == A

    after = change(tracker, config(B, A))
    tracker.release(in_flight)
    tracker.record(in_flight, Outcome.RATE_LIMITED, START + 30)

    a_state = tracker.model_state("p", 1, "m")
    b_state = tracker.model_state("p", 0, "m")
    assert a_state is not None and a_state.cooldown_until == START + 30
    assert a_state.in_flight == 0 and not a_state.live
    assert b_state is None or b_state.cooldown_until == 0.0
    assert admitted(tracker, p_of(after)).api_key == B


def test_a_reservation_on_dropped_state_ends_without_bringing_it_back(clock):
    before = config(A, rateLimits={"concurrentRequests": 1})
    tracker = tracker_for(before, clock)
    on_a = admitted(tracker, p_of(before))
    on_q = admitted(tracker, before.provider("q"), "n")
    assert skipped(tracker, p_of(before)).reason is SkipReason.CONCURRENCY_FULL

    after = change(
        tracker,
        build_config(
            [{"id": "p", "type": "groq", "apiKeys": [B], "rateLimits": {"concurrentRequests": 1}}],
            {"c": entries(("p", "m"))},
        ),
    )
    assert skipped(tracker, p_of(after)).reason is SkipReason.CONCURRENCY_FULL, "still in flight"
    report = LimitReport((Metric(MetricKind.REQUESTS, Window.MINUTE, 10, 0, START + 60),))
    for reservation in (on_a, on_q):
        tracker.observe(reservation, report)
        tracker.release(reservation)
        tracker.record(reservation, Outcome.RATE_LIMITED, START + 60)

    assert {k for k, _ in tracker.model_states()} == set()
    assert {k for k, _ in tracker.key_states()} == set()
    fresh = admitted(tracker, p_of(after))
    assert fresh.api_key == B, "the old reservation's concurrency slot was given back"


def test_manual_windows_follow_changed_limits_and_keep_what_they_used(clock):
    before = config(A, limits={"requestsPerMinute": 2})
    tracker = tracker_for(before, clock)
    for _ in range(2):
        tracker.release(admitted(tracker, p_of(before)))
    assert skipped(tracker, p_of(before)).reason is SkipReason.REQUESTS_EXHAUSTED
    reset_at = skipped(tracker, p_of(before)).until

    raised = change(tracker, config(A, limits={"requestsPerMinute": 5}))
    for _ in range(3):
        tracker.release(admitted(tracker, p_of(raised)))
    skip = skipped(tracker, p_of(raised))
    assert (skip.reason, skip.until) == (SkipReason.REQUESTS_EXHAUSTED, reset_at)

    unlimited = change(tracker, config(A))
    admitted(tracker, p_of(unlimited))


def test_a_new_manual_limit_counts_the_requests_already_in_flight(clock):
    before = config(A)
    tracker = tracker_for(before, clock)
    in_flight = admitted(tracker, p_of(before))

    limited = change(tracker, config(A, limits={"requestsPerMinute": 2}))
    admitted(tracker, p_of(limited))
    assert skipped(tracker, p_of(limited)).reason is SkipReason.REQUESTS_EXHAUSTED
    tracker.release(in_flight)
    state = tracker.model_state("p", 0, "m")
    [window] = state.windows.values()  # type: ignore[union-attr]
    assert (window.remaining, window.in_flight) == (1, 1), "spent once, one more still held"


def test_an_entry_set_aside_by_a_404_comes_back_when_its_provider_or_limits_change(clock):
    before = config(A, models=("m", "o"))
    tracker = tracker_for(before, clock)
    ended(tracker, p_of(before), Outcome.NOT_FOUND)
    ended(tracker, p_of(before), Outcome.NOT_FOUND, model="o")

    same = change(tracker, config(A, models=("m", "o")))
    assert skipped(tracker, p_of(same)).reason is SkipReason.ENTRY_DISABLED

    edited = change(tracker, config(A, models=("m", "o"), timeout=9000), "p")
    tracker.release(admitted(tracker, p_of(edited)))
    tracker.release(admitted(tracker, p_of(edited), "o"))

    ended(tracker, p_of(edited), Outcome.NOT_FOUND)
    limited = change(
        tracker, config(A, models=("m", "o"), timeout=9000, limits={"tokensPerDay": 9})
    )
    admitted(tracker, p_of(limited))


def test_a_provider_moved_to_another_upstream_starts_over(clock):
    before = config(A)
    tracker = tracker_for(before, clock)
    ended(tracker, p_of(before), Outcome.RATE_LIMITED, retry_at=START + 30)

    moved = change(tracker, config(A, baseUrl="http://127.0.0.1:9/v1"))

    admitted(tracker, p_of(moved))


def test_keys_sharing_one_account_keep_its_state_while_any_key_stays(clock):
    before = config(A, B, keysShareLimits=True)
    tracker = tracker_for(before, clock)
    reservation = admitted(tracker, p_of(before))
    report = LimitReport(
        (Metric(MetricKind.REQUESTS, Window.DAY, 50, 0, START + 600, scope=Scope.ACCOUNT),)
    )
    tracker.observe(reservation, report)
    tracker.release(reservation)
    tracker.record(reservation, Outcome.PAYMENT_REQUIRED)  # A out of credit

    after = change(tracker, config(C, B, A, keysShareLimits=True))
    skip = skipped(tracker, p_of(after))
    assert (skip.reason, skip.until) == (SkipReason.REQUESTS_EXHAUSTED, START + 600)
    assert tracker.key_state("p", 0).credit_until == 0.0  # type: ignore[union-attr]
    assert tracker.key_state("p", 2).credit_until > START  # type: ignore[union-attr]

    b_payment = Reservation("p", 1, "…bbbb", B, "m")  # an outcome recorded by position
    tracker.record(b_payment, Outcome.PAYMENT_REQUIRED)
    b_first = change(tracker, config(B, keysShareLimits=True))
    account = tracker.key_state("p", 0)
    assert account is not None and account.credit_until > START, "B's own, now first"
    assert account.windows, "the account's window stays"
    assert skipped(tracker, p_of(b_first)).reason is SkipReason.OUT_OF_CREDIT

    other_account = change(tracker, config(C, A, keysShareLimits=True))
    assert {k for k, _ in tracker.model_states()} == set()
    admitted(tracker, p_of(other_account))


def test_a_snapshot_taken_after_a_reorder_restores_at_the_new_positions(clock):
    before = config(A, B)
    tracker = tracker_for(before, clock)
    ended(tracker, p_of(before), Outcome.RATE_LIMITED, retry_at=START + 30)  # A
    after = change(tracker, config(B, A))

    restarted = tracker_for(after, clock)
    restore_snapshot(restarted, after, take_snapshot(tracker, clock.now()), clock.now())

    assert admitted(restarted, p_of(after)).api_key == B
    assert restarted.model_state("p", 1, "m").cooldown_until == START + 30  # type: ignore[union-attr]
