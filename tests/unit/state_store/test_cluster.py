"""Where a Redis Cluster's store sends each call: to the master of its slot, as `CLUSTER SLOTS`
says, and a slot's calls to one node at a time in the order they were made."""

from __future__ import annotations

from redis.crc import key_slot

from chain429.config.cluster_url import parse_cluster_url
from chain429.state_store.cluster import ClusterCall, ClusterClient
from chain429.state_store.names import slot_keys
from chain429.state_store.redis_store import SCRIPTS

ONE, TWO = ("10.0.0.1", 7000), ("10.0.0.2", 7000)
A, B = slot_keys("a", "all"), slot_keys("b", "all")


def client() -> ClusterClient:
    cluster = ClusterClient(parse_cluster_url("redis+cluster://seed:7000"), SCRIPTS, 1.0)
    middle = 8192
    cluster.take_slots(
        [[0, middle - 1, [b"10.0.0.1", 7000, b"id1"]], [middle, 16383, [b"", 7000, b"id2"]]],
        answered_by=TWO,
    )
    return cluster


def call(keys) -> ClusterCall:
    return ClusterCall("observe", keys, [])


def test_a_slot_is_served_by_the_master_cluster_slots_names() -> None:
    cluster = client()
    assert cluster.owner(0) == ONE and cluster.owner(16383) == TWO  # "": the node that answered
    assert cluster.masters == {ONE, TWO}
    assert cluster.slot(A) == key_slot(A.state.encode()) == key_slot(A.held.encode())


def test_calls_go_to_their_slots_masters_in_order() -> None:
    cluster = client()
    calls = [call(A), call(B), call(A), call(B)]
    sends, held = cluster.route(calls, [0, 1, 2, 3], {})
    assert held == []
    assert {tuple(indexes) for indexes in sends.values()} == {(0, 2), (1, 3)}
    assert sends[cluster.owner(cluster.slot(A))] == [0, 2]


def test_a_call_sent_elsewhere_holds_back_the_later_calls_of_its_slot() -> None:
    cluster = client()
    owner = cluster.owner(cluster.slot(A))
    elsewhere = TWO if owner == ONE else ONE
    calls = [call(A), call(A), call(A), call(B)]

    sends, held = cluster.route(calls, [0, 1, 2, 3], {1: elsewhere})  # 1 was answered ASK

    assert sends[owner][:1] == [0]  # before it: sent
    assert 1 not in sends.get(elsewhere, []) and held == [1, 2]  # it and after it: next round
    assert 3 in sends[cluster.owner(cluster.slot(B))]  # another slot: not held
