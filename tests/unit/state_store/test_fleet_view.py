"""The fleet's view of an entry: this replica's view with what Redis holds for its slot laid
over it (pure: the script's answer is written by hand here; the integration tests run it)."""

from __future__ import annotations

from chain429.limits.status import EntryView, WindowView
from chain429.state_store.fleet_view import Flight, SlotReading, fleet_entry

NOW = 1000.0
OFFSET = 1_700_000_000.0  # the wall clock ahead of the steady timeline
WALL = NOW + OFFSET


def window(remaining: int | None = 10, in_flight: int = 0, scope: str = "model") -> WindowView:
    return WindowView(
        kind="requests",
        window="minute",
        scope=scope,
        limit=30,
        remaining=remaining,
        in_flight=in_flight,
        reset_at=NOW + 30,
        source="manual",
        updated_at=NOW - 5,
        raw=(),
    )


def entry(*windows: WindowView, model: str = "m", **changes: object) -> EntryView:
    fields: dict[str, object] = {
        "provider": "p",
        "model": model,
        "key_label": "…abcd",
        "status": "tracking" if windows else "available",
        "cooldown_until": None,
        "reason": None,
        "disabled": None,
        "in_flight": 0,
        "windows": windows,
    }
    return EntryView(**(fields | changes))  # type: ignore[arg-type]


def reading(fields: dict[str, str], *flights: Flight) -> SlotReading:
    return SlotReading(fields, flights)


def test_parse_reads_the_hash_and_the_live_leases() -> None:
    answer = [[b"M|m|req", b"2", b"K|cool", b"0"], [b"m 40 0 0", b"m 10 0 1", b"odd"]]
    parsed = SlotReading.parse(answer)
    assert parsed.fields == {"M|m|req": "2", "K|cool": "0"}
    assert parsed.flights == (Flight("m", 40, False, False), Flight("m", 10, False, True))


def test_a_window_shows_the_fleet_s_remaining_reset_and_in_flight() -> None:
    shared = reading(
        {
            "M|m|wins": " model/requests/minute",
            "M|m|w|model/requests/minute|lim": "30",
            "M|m|w|model/requests/minute|rem": "4",
            "M|m|w|model/requests/minute|rst": str(WALL + 12.5),
            "M|m|w|model/requests/minute|src": "manual",
        },
        Flight("m", 5, False, False),
        Flight("m", 5, False, False),
        Flight("m", 5, False, True),  # answered: its headers counted it already
        Flight("other", 5, False, False),
    )
    merged = fleet_entry(entry(window(remaining=10)), shared, NOW, OFFSET)
    (seen,) = merged.windows
    assert (seen.remaining, seen.in_flight, seen.reset_at) == (4, 2, NOW + 12.5)
    assert (merged.in_flight, merged.status) == (3, "tracking")


def test_the_fleet_in_flight_can_exhaust_an_entry_this_replica_thinks_free() -> None:
    shared = reading(
        {"M|m|wins": "model/requests/minute", "M|m|w|model/requests/minute|rem": "2"},
        Flight("m", 0, False, False),
        Flight("m", 0, False, False),
    )
    merged = fleet_entry(entry(window(remaining=10)), shared, NOW, OFFSET)
    assert (merged.status, merged.reason) == ("exhausted", "quota exhausted")


def test_a_window_past_its_reset_shows_refilled() -> None:
    shared = reading(
        {
            "M|m|wins": "model/requests/minute",
            "M|m|w|model/requests/minute|lim": "30",
            "M|m|w|model/requests/minute|rem": "0",
            "M|m|w|model/requests/minute|rst": str(WALL - 1),
        }
    )
    (seen,) = fleet_entry(entry(window(remaining=0)), shared, NOW, OFFSET).windows
    assert (seen.remaining, seen.reset_at) == (30, None)


def test_a_window_only_redis_knows_is_added_and_only_local_ones_kept() -> None:
    shared = reading(
        {
            "M|m|wins": "model/tokens/minute",
            "M|m|w|model/tokens/minute|lim": "6000",
            "M|m|w|model/tokens/minute|rem": "5000",
            "M|m|w|model/tokens/minute|src": "header",
        },
        Flight("m", 700, False, True),
    )
    merged = fleet_entry(entry(window(remaining=10)), shared, NOW, OFFSET)
    local, tokens = merged.windows
    assert (local.remaining, local.source) == (10, "manual")
    assert (tokens.kind, tokens.remaining, tokens.in_flight) == ("tokens", 5000, 700)


def test_a_cooldown_another_replica_learned_exhausts_the_entry() -> None:
    shared = reading({"M|m|cool": str(WALL + 60), "M|m|pen": "0", "M|m|reason": "429"})
    merged = fleet_entry(entry(), shared, NOW, OFFSET)
    assert (merged.status, merged.cooldown_until, merged.reason) == ("exhausted", NOW + 60, "429")


def test_a_penalty_is_failing_and_a_past_cooldown_nothing() -> None:
    penalty = reading({"M|m|cool": str(WALL + 5), "M|m|pen": "1", "M|m|reason": "timeout"})
    assert fleet_entry(entry(), penalty, NOW, OFFSET).status == "failing"
    past = reading({"M|m|cool": str(WALL - 5), "M|m|pen": "0", "M|m|reason": "429"})
    merged = fleet_entry(entry(), past, NOW, OFFSET)
    assert (merged.status, merged.cooldown_until, merged.reason) == ("available", None, None)


def test_the_free_models_cooldown_and_window_apply_to_free_models_only() -> None:
    shared = reading(
        {
            "K|fcool": str(WALL + 30),
            "K|reason": "free-models-per-day",
            "K|wins": "free-models/requests/day",
            "K|w|free-models/requests/day|rem": "7",
        }
    )
    paid = fleet_entry(entry(model="m"), shared, NOW, OFFSET)
    assert (paid.status, paid.windows) == ("available", ())
    free = fleet_entry(entry(model="m:free"), shared, NOW, OFFSET)
    assert (free.status, free.reason) == ("exhausted", "free-models-per-day")
    assert [w.scope for w in free.windows] == ["free-models"]


def test_what_only_this_replica_knows_still_holds() -> None:
    aside = entry(status="exhausted", disabled="invalid key", reason="invalid key")
    merged = fleet_entry(aside, reading({}), NOW, OFFSET)
    assert (merged.status, merged.reason, merged.disabled) == (
        "exhausted",
        "invalid key",
        "invalid key",
    )
