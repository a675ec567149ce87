"""Which replicas share this Redis: each one keeps a record of itself in one hash, refreshed
every tick of its `fleet.Fleet`, and the replicas seen lately are the fleet.

A record says who the replica is (a random id drawn at start, the host, the pid, the
version, when it started), when it was last seen, and whether a dashboard follows its live
requests there (`watching`: the others then publish theirs, see `fleet_feed`). Never a key,
a URL or anything of the configuration. Times are epoch seconds.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Final

import orjson

from chain429 import __version__
from chain429.state_store.names import PREFIX

#: One hash of every replica's record, by id (one key: one Redis Cluster slot).
REPLICAS: Final = f"{PREFIX}:{{fleet}}:replicas"
#: A replica not seen for this long is no longer counted (it stopped, or lost Redis).
GONE_AFTER_S: Final = 10.0
#: A record this old is removed from the hash by whichever replica sees it.
FORGET_AFTER_S: Final = 3600.0


@dataclass(frozen=True, slots=True)
class ReplicaRecord:
    id: str
    host: str
    pid: int
    version: str
    started_at: float
    last_seen: float
    watching: bool = False

    @classmethod
    def of_this_process(cls, started_at: float) -> ReplicaRecord:
        return cls(
            id=os.urandom(4).hex(),
            host=socket.gethostname(),
            pid=os.getpid(),
            version=__version__,
            started_at=started_at,
            last_seen=started_at,
        )

    def seen(self, now: float, watching: bool) -> ReplicaRecord:
        return replace(self, last_seen=now, watching=watching)

    def dumps(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def loads(cls, data: bytes | str) -> ReplicaRecord | None:
        """The record `dumps` wrote; None for anything else (another version's, damaged)."""
        try:
            fields = orjson.loads(data)
            return cls(**fields)
        except (orjson.JSONDecodeError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class FleetMembers:
    """The replicas seen within `GONE_AFTER_S`, oldest first, and the ids of records to
    forget."""

    live: tuple[ReplicaRecord, ...]
    forgotten: tuple[str, ...]

    @classmethod
    def of(cls, stored: Mapping[bytes, bytes], now: float) -> FleetMembers:
        live, forgotten = [], []
        for field, data in stored.items():
            record = ReplicaRecord.loads(data)
            if record is None or now - record.last_seen > FORGET_AFTER_S:
                forgotten.append(field.decode())
            elif now - record.last_seen <= GONE_AFTER_S:
                live.append(record)
        live.sort(key=lambda r: (r.started_at, r.id))
        return cls(tuple(live), tuple(forgotten))

    def watched_elsewhere(self, own_id: str) -> bool:
        """Whether a dashboard follows live requests on another replica."""
        return any(r.watching for r in self.live if r.id != own_id)
