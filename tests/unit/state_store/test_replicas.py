"""The replicas' records: who is in the fleet, who watches the feed, what is forgotten."""

from __future__ import annotations

from dataclasses import asdict

from chain429.state_store.replicas import (
    FORGET_AFTER_S,
    GONE_AFTER_S,
    FleetMembers,
    ReplicaRecord,
)

NOW = 1_800_000_000.0


def record(id: str, seen_ago: float, *, watching: bool = False) -> ReplicaRecord:
    return ReplicaRecord(id, "host", 7, "0.1.0", NOW - 100 - seen_ago, NOW - seen_ago, watching)


def test_a_record_round_trips_and_says_nothing_else() -> None:
    mine = ReplicaRecord.of_this_process(NOW).seen(NOW + 1, watching=True)
    assert ReplicaRecord.loads(mine.dumps()) == mine
    assert set(asdict(mine)) == {
        "id",
        "host",
        "pid",
        "version",
        "started_at",
        "last_seen",
        "watching",
    }


def test_members_are_the_replicas_seen_lately_and_old_or_damaged_records_go() -> None:
    stored = {
        b"b": record("b", 1).dumps(),
        b"a": record("a", 2).dumps(),
        b"gone": record("gone", GONE_AFTER_S + 1).dumps(),
        b"old": record("old", FORGET_AFTER_S + 1).dumps(),
        b"bad": b"{not json",
    }
    members = FleetMembers.of(stored, NOW)
    assert [r.id for r in members.live] == ["a", "b"]  # oldest first
    assert sorted(members.forgotten) == ["bad", "old"]


def test_the_feed_is_wanted_only_for_another_replica_s_dashboard() -> None:
    stored = {b"a": record("a", 0, watching=True).dumps(), b"b": record("b", 0).dumps()}
    members = FleetMembers.of(stored, NOW)
    assert not members.watched_elsewhere("a")
    assert members.watched_elsewhere("b")
