"""Admission confirmed by the replicas' shared state, key by key (`settings.stateStore`).

The local tracker admits on the first key of a provider it believes can serve; the shared
state may know better (another replica spent that key's window). A key the shared state
refuses is passed over as a key the local state refuses is: the provider's next key is asked,
locally then in the shared state, and the entry is skipped only when no key is left. Keys
that share one state (`keysShareLimits`) are refused together.
"""

from __future__ import annotations

from chain429.config.schema import ProviderConfig
from chain429.limits.state import Reservation
from chain429.limits.tracker import Demand, LimitTracker, Skip, SkipReason, sooner


async def next_key(
    tracker: LimitTracker,
    provider: ProviderConfig,
    model: str,
    refused: Reservation,
    refusal: Skip,
    demand: Demand,
) -> Reservation | Skip:
    """After the shared state answered `refusal` to `refused` (withdrawn): a later key of
    `provider` that the local state admits and the shared state confirms, or the refusal
    that ends first when none is left."""
    if refusal.reason is SkipReason.CONCURRENCY_FULL:
        return refusal  # a concurrency limit spans the provider's keys: no other key helps
    skip, slots = refusal, {refused.slot}
    index = refused.key_index
    while True:
        following = next(
            (
                later
                for later in range(index + 1, len(provider.keys))
                if tracker.slot(provider.id, later) not in slots
            ),
            None,
        )
        if following is None:
            return skip
        admitted = tracker.admit(provider, model, demand, first_key=following)
        if isinstance(admitted, Skip):
            return sooner(skip, admitted)
        answer = await tracker.admit_shared(admitted, demand)
        if not isinstance(answer, Skip):
            return answer
        skip = sooner(skip, answer)
        slots.add(admitted.slot)
        index = admitted.key_index
