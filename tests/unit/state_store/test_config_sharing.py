"""What a replica does with the fleet's configuration version (`decide`)."""

from __future__ import annotations

import pytest

from chain429.state_store.config_sharing import Action, decide


@pytest.mark.parametrize(
    ("fleet", "replaced", "unpublished", "action"),
    [
        ("v1", False, False, Action.NOTHING),  # the fleet's version already
        ("v1", False, True, Action.NOTHING),
        (None, False, False, Action.NOTHING),  # nothing shared yet: no keys put in Redis
        ("v2", True, False, Action.ADOPT),  # the fleet moved past this replica: catch up
        ("v2", False, False, Action.PUBLISH),  # a file the fleet never ran (a new deploy)
        ("v2", True, True, Action.PUBLISH),  # a change taken while Redis was away: latest wins
        (None, False, True, Action.PUBLISH),  # ... and Redis came back empty
    ],
)
def test_a_replica_follows_the_fleet_unless_it_holds_something_newer(
    fleet: str | None, replaced: bool, unpublished: bool, action: Action
) -> None:
    assert decide("v1", fleet, replaced, unpublished) is action
