"""A saved limit state can be anything after a crash, a bad disk or a hand edit: restoring any
JSON shaped roughly like a snapshot never raises, and what it restored can be saved again."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain429.limits.manual import manual_limits
from chain429.limits.snapshot import restore_snapshot, shifted_snapshot, take_snapshot
from chain429.limits.tracker import LimitTracker, policy_from
from tests.support.clock import FakeClock
from tests.support.configs import build_config, entries

CONFIG = build_config(
    [
        {"id": "g", "type": "groq", "apiKey": "key-g-123456789"},
        {
            "id": "o",
            "type": "openrouter",
            "apiKey": "key-o-123456789",
            "rateLimits": {"requestsPerDay": 3},
        },
    ],
    {"c": entries(("g", "a"), ("o", "b:free"))},
)
START = 1_800_000_000.0
KEYS = (
    "provider slot model cooldownUntil reason penalised windows learned kind window limit "
    "remaining resetAt source updatedAt scope index creditUntil freeCooldownUntil periodS"
).split()
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(
        ["g", "o", "a", "b:free", "requests", "tokens", "minute", "day", "unknown", "header"]
        + ["learned", "manual", "model", "account", "free-models", 0, 1, 3, START + 60, START - 60]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=10)
    ),
    max_leaves=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries_=st.lists(JSON, max_size=4), keys=st.lists(JSON, max_size=4), shift=SCALARS)
def test_any_saved_state_restores_without_raising_and_saves_again(
    entries_: list[Any], keys: list[Any], shift: Any
) -> None:
    clock = FakeClock(START)
    tracker = LimitTracker(policy_from(CONFIG.settings), clock, limits=manual_limits(CONFIG))
    data = orjson.loads(orjson.dumps({"version": 1, "entries": entries_, "keys": keys}))
    moved = shifted_snapshot(data, shift if isinstance(shift, float) else 0.0)
    restore_snapshot(tracker, CONFIG, moved, START)
    for provider in CONFIG.providers:
        for model in ("a", "b:free"):
            tracker.admit(provider, model)
    orjson.dumps(take_snapshot(tracker, START))
