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
from chain429.limits.tracker import Demand, LimitTracker, Skip, sooner


async def confirmed(
    tracker: LimitTracker,
    provider: ProviderConfig,
    model: str,
    reservation: Reservation,
    demand: Demand,
) -> Reservation | Skip:
    """`reservation` (granted by `tracker.admit`) or another key's, confirmed by the shared
    state; the refusal that ends first when the shared state refuses every key left."""
    refused: Skip | None = None
    refused_slots: set[int] = set()
    keys = len(provider.keys)
    while True:
        answer = await tracker.admit_shared(reservation, demand)
        if not isinstance(answer, Skip):
            return answer
        refused = sooner(refused, answer)
        refused_slots.add(reservation.slot)
        following = next(
            (
                index
                for index in range(reservation.key_index + 1, keys)
                if tracker.slot(provider.id, index) not in refused_slots
            ),
            None,
        )
        if following is None:
            return refused
        admitted = tracker.admit(provider, model, demand, first_key=following)
        if isinstance(admitted, Skip):
            return sooner(refused, admitted)
        reservation = admitted
