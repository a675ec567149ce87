"""The outcome table: one rule per outcome, and the few facts the rest of the code relies on."""

from __future__ import annotations

from chain429.outcome import RULES, Effect, Outcome, is_failing


def test_every_outcome_has_a_rule():
    assert set(RULES) == set(Outcome)


def test_only_key_failures_try_the_next_key():
    keyed = {o for o, rule in RULES.items() if rule.next_key}
    assert keyed == {Outcome.RATE_LIMITED, Outcome.PAYMENT_REQUIRED, Outcome.AUTH_FAILED}


def test_the_walk_ends_only_once_the_client_has_its_answer_or_is_gone():
    final = {o for o, rule in RULES.items() if not rule.walk_on}
    assert final == {
        Outcome.SERVED,
        Outcome.MID_STREAM_FAILURE,
        Outcome.CLIENT_CLOSED,
        Outcome.INTERNAL_ERROR,
        Outcome.SHUTDOWN,
    }


def test_failing_means_a_penalty_and_no_rule_both_walks_on_and_ends_a_key():
    assert {o for o in Outcome if is_failing(o)} == {
        Outcome.SERVER_ERROR,
        Outcome.TIMEOUT,
        Outcome.CONNECT_ERROR,
        Outcome.BAD_RESPONSE,
        Outcome.IN_BAND_ERROR,
    }
    assert all(rule.walk_on for rule in RULES.values() if rule.next_key)
    assert RULES[Outcome.SKIPPED].effect is Effect.NOTHING


def test_outcomes_are_words():
    assert all(o.value.replace("_", "").isalpha() for o in Outcome)
