"""How one attempt at one chain entry ended, and what each ending means: one table.

`RULES` is the waterfall's policy in one place. For every outcome it says what the limit
tracker learns about the entry or its key (`Effect`), whether another key of the same provider
may serve instead (`next_key`: the failure speaks of the key, not the model), and whether the
walk goes on down the chain (`walk_on`). The router and the tracker read it; neither keeps a
list of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Outcome(StrEnum):
    SERVED = "served"
    SKIPPED = "skipped"
    RATE_LIMITED = "rate_limited"
    PAYMENT_REQUIRED = "payment_required"
    AUTH_FAILED = "auth_failed"
    NOT_FOUND = "not_found"
    REJECTED = "rejected"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect_error"
    BAD_RESPONSE = "bad_response"
    IN_BAND_ERROR = "in_band_error"
    MID_STREAM_FAILURE = "mid_stream_failure"
    CLIENT_CLOSED = "client_closed"
    INTERNAL_ERROR = "internal_error"
    SHUTDOWN = "shutdown"


class Effect(StrEnum):
    """What an outcome teaches the limit tracker."""

    NOTHING = "nothing"
    CLEARED = "cleared"  # served: untimed strikes forgotten, escalations decay
    COOLDOWN = "cooldown"  # until the provider's reset, else a doubling backoff
    NO_CREDIT = "no_credit"  # the key sits out `PAYMENT_COOLDOWN_S`
    KEY_DISABLED = "key_disabled"  # until the config changes
    ENTRY_DISABLED = "entry_disabled"  # until the config changes
    PENALTY = "penalty"  # the entry sits out `failurePenaltyMs`: the provider is failing
    MID_STREAM = "mid_stream"  # counted; past the threshold the entry sits out, escalating


@dataclass(frozen=True, slots=True)
class Rule:
    effect: Effect
    next_key: bool
    walk_on: bool


_NEXT_ENTRY = Rule(Effect.NOTHING, next_key=False, walk_on=True)
_PENALTY = Rule(Effect.PENALTY, next_key=False, walk_on=True)
_FINAL = Rule(Effect.NOTHING, next_key=False, walk_on=False)

#: The policy. A committed stream that breaks (`MID_STREAM_FAILURE`) already belongs to the
#: client, so nothing walks on from it; a bug of our own (`INTERNAL_ERROR`) ends the request.
RULES: Final = MappingProxyType(
    {
        Outcome.SERVED: Rule(Effect.CLEARED, next_key=False, walk_on=False),
        Outcome.SKIPPED: _NEXT_ENTRY,
        Outcome.RATE_LIMITED: Rule(Effect.COOLDOWN, next_key=True, walk_on=True),
        Outcome.PAYMENT_REQUIRED: Rule(Effect.NO_CREDIT, next_key=True, walk_on=True),
        Outcome.AUTH_FAILED: Rule(Effect.KEY_DISABLED, next_key=True, walk_on=True),
        Outcome.NOT_FOUND: Rule(Effect.ENTRY_DISABLED, next_key=False, walk_on=True),
        Outcome.REJECTED: _NEXT_ENTRY,
        Outcome.SERVER_ERROR: _PENALTY,
        Outcome.TIMEOUT: _PENALTY,
        Outcome.CONNECT_ERROR: _PENALTY,
        Outcome.BAD_RESPONSE: _PENALTY,
        Outcome.IN_BAND_ERROR: _PENALTY,
        Outcome.MID_STREAM_FAILURE: Rule(Effect.MID_STREAM, next_key=False, walk_on=False),
        Outcome.CLIENT_CLOSED: _FINAL,
        Outcome.INTERNAL_ERROR: _FINAL,
        Outcome.SHUTDOWN: _FINAL,
    }
)


def is_failing(outcome: Outcome) -> bool:
    """Whether `outcome` says the provider is failing (a penalty) rather than out of quota."""
    return RULES[outcome].effect is Effect.PENALTY
