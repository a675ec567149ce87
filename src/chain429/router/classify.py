"""The waterfall's rules: what an upstream status means for this request and this entry."""

from __future__ import annotations

from chain429.outcome import Outcome

_BY_STATUS = {
    429: Outcome.RATE_LIMITED,
    402: Outcome.PAYMENT_REQUIRED,
    401: Outcome.AUTH_FAILED,
    403: Outcome.AUTH_FAILED,
    404: Outcome.NOT_FOUND,
    408: Outcome.SERVER_ERROR,
}


def classify_status(status: int) -> Outcome:
    """2xx serves; 429/402 cool down; 401/403/404 set aside; 408/5xx penalise; other 4xx reject.

    A rejection means this entry refused this particular request (an unsupported parameter, a
    context too long for that model): the next entry is tried, and no cooldown is applied.
    """
    if 200 <= status < 300:
        return Outcome.SERVED
    known = _BY_STATUS.get(status)
    if known is not None:
        return known
    if status >= 500:
        return Outcome.SERVER_ERROR
    if 400 <= status < 500:
        return Outcome.REJECTED
    return Outcome.BAD_RESPONSE
