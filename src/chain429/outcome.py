"""How one attempt at one chain entry ended. Shared vocabulary of router, limits and usage."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    SERVED = "served"
    SKIPPED = "skipped"
    RATE_LIMITED = "429"
    PAYMENT_REQUIRED = "402"
    AUTH_FAILED = "auth"
    NOT_FOUND = "not_found"
    REJECTED = "rejected"
    SERVER_ERROR = "5xx"
    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect"
    BAD_RESPONSE = "bad_response"
    IN_BAND_ERROR = "in_band_error"
    MID_STREAM_FAILURE = "mid_stream_failure"
    CLIENT_CLOSED = "client_closed"
    INTERNAL_ERROR = "internal_error"
    SHUTDOWN = "shutdown"


#: Failures that say the provider is failing rather than out of quota: each costs the entry a
#: short failure penalty (`failurePenaltyMs`).
PENALISED_OUTCOMES = frozenset(
    {
        Outcome.SERVER_ERROR,
        Outcome.TIMEOUT,
        Outcome.CONNECT_ERROR,
        Outcome.BAD_RESPONSE,
        Outcome.IN_BAND_ERROR,
    }
)
