"""Concurrency limits held by the whole fleet (`rateLimits.concurrentRequests`, of a provider
or of a chain entry).

A replica counts its own requests in flight against those limits before it asks anything; with
a shared state, the admission of a provider or entry that has such a limit also takes a place
in the provider's count of every replica's requests in flight (`scripts.TAKE_PLACE`, on
`names.concurrency_keys`), sent in the same round trip as the admission. A place is a lease
like the admission's: the same id and length, renewed and ended with it, so a dead replica's
places come back when its leases run out. Providers and entries with no such limit take no
place and cost nothing more.
"""

from __future__ import annotations

from typing import Any, Final

from chain429.limits.manual import ManualLimits
from chain429.limits.state import Reservation
from chain429.limits.tracker import Skip, SkipReason
from chain429.state_store.names import model_name
from chain429.state_store.redis_store import Arg

_TAKEN: Final = b"taken"
_DETAILS: Final = {
    b"provider": "concurrent request limit reached across replicas",
    b"entry": "entry concurrency limit reached across replicas",
}


def place_args(
    limits: ManualLimits,
    reservation: Reservation,
    lease: str,
    now: float,
    expiry: float,
    *,
    force: bool,
    queued: bool,
) -> list[Arg] | None:
    """`scripts.TAKE_PLACE`'s arguments for `reservation` (taken whatever the limits say when
    `force`; `queued`: a refused request will wait, to be woken when a place is freed), or
    None when neither its provider nor its entry has a concurrency limit (no place to take)."""
    provider_id, model = reservation.provider_id, reservation.model
    provider = limits.providers.get(provider_id)
    entry = limits.for_entry(provider_id, model)
    wide = None if provider is None else provider.concurrent_requests
    own = None if entry is None else entry.concurrent_requests
    if wide is None and own is None:
        return None
    return [
        now,
        model_name(model),
        lease,
        expiry,
        "" if wide is None else wide,
        "" if own is None else own,
        "1" if force else "q" if queued else "0",
    ]


def taken(answer: Any) -> bool:
    """Whether `scripts.TAKE_PLACE` answered that the place was taken."""
    return bool(answer) and answer[0] == _TAKEN


def refusal(answer: Any) -> Skip | None:
    """The skip `scripts.TAKE_PLACE` answered, or None when it took the place (or gave no
    answer: Redis went away, and the replica serves on its own count)."""
    if not answer or answer[0] == _TAKEN:
        return None
    return Skip(SkipReason.CONCURRENCY_FULL, None, _DETAILS[answer[0]])
