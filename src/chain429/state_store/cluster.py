"""Where a batch of the shared state's calls goes on a Redis Cluster, and what comes back
(`cluster_link` runs the batches in order, `redis_store` is the store: its queue, its outages).

Every script's keys carry one hash tag per provider key (`names`), so each call belongs to one
slot, and a batch is split into one pipeline per master, sent together. The store's promise
holds per slot: the calls of one slot leave for one node at a time, in the order they were
made, so a report sent before an admission is applied before it. (Calls of different slots
have no order between them, as they share no state.)

- **Topology:** the masters and their slots come from `CLUSTER SLOTS`, asked of a known node
  or one the URL names; a `MOVED` answer moves its slot at once (resharding, a failover) and
  the call is sent again to the new owner, after the calls of its slot that were before it.
- **Resharding:** an `ASK` answer sends the call to the importing node behind `ASKING`;
  `TRYAGAIN` (a slot's keys half moved: a script's keys that do not all exist, as an empty
  lease list, make it so for as long as the slot is moving) sends it again a moment later. A
  call still answered `TRYAGAIN` after `ROUNDS` rounds is answered None (the caller serves on
  its local state, said in the log); any other still redirected then is answered its error.
- **Scripts:** loaded on every master by `load`; a node that answers `NOSCRIPT` (restarted,
  or new) has them loaded again and its calls are sent again.
- **A node failing:** a node that does not answer, or a cluster that says `CLUSTERDOWN`,
  raises `ConnectionError` (the store's outage), and so does `ensure_ok` until every master
  answers and the cluster says its state is ok again.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar, cast

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MovedError,
    NoScriptError,
    RedisError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from chain429.config.cluster_url import ClusterUrl
from chain429.state_store.names import SlotKeys
from chain429.state_store.resp import Arg

log = structlog.get_logger("chain429.state_store")

#: Rounds of redirections (MOVED, ASK, TRYAGAIN, NOSCRIPT) a batch may take.
ROUNDS: Final = 5
#: Seconds before sending again the calls a node answered TRYAGAIN (keys being migrated).
TRY_AGAIN_S: Final = 0.05

Address = tuple[str, int]
T = TypeVar("T")
#: The call that runs no script: PING, answered once every call before it has run.
PING: Final = "ping"
NO_KEYS: Final = SlotKeys("", "", "")


class QueuedCall(Protocol):
    """A script to run with its keys and arguments, and who waits for its answer (if any)."""

    script: str
    keys: SlotKeys
    args: Sequence[Arg]
    answer: asyncio.Future[Any] | None


@dataclass(slots=True)
class ClusterCall:
    """A `QueuedCall` of the cluster's store."""

    script: str
    keys: SlotKeys
    args: Sequence[Arg]
    answer: asyncio.Future[Any] | None = None


class ClusterClient:
    """Connections to every master of a Redis Cluster, and which master serves which slot."""

    def __init__(self, url: ClusterUrl, scripts: Mapping[str, str], timeout_s: float) -> None:
        self._seeds = url.nodes
        self._url = url
        self._timeout_s = timeout_s
        self.scripts = dict(scripts)
        self.shas = {
            name: hashlib.sha1(text.encode()).hexdigest() for name, text in scripts.items()
        }
        self._nodes: dict[Address, aioredis.Redis] = {}
        self._owners: list[Address | None] = [None] * REDIS_CLUSTER_HASH_SLOTS
        self._slots: dict[str, int] = {}

    def node(self, address: Address) -> aioredis.Redis:
        client = self._nodes.get(address)
        if client is None:
            # One quick retry, as the single-node store: a dropped connection is replaced at
            # once, and a node that is gone is told within the timeout.
            client = self._nodes[address] = aioredis.Redis(
                host=address[0],
                port=address[1],
                username=self._url.username,
                password=self._url.password,
                ssl=self._url.tls,
                socket_timeout=self._timeout_s,
                socket_connect_timeout=self._timeout_s,
                retry=Retry(NoBackoff(), 1),
            )
        return client

    @property
    def masters(self) -> set[Address]:
        return {owner for owner in self._owners if owner is not None}

    def slot(self, keys: SlotKeys) -> int:
        slot = self._slots.get(keys.state)
        if slot is None:
            slot = self._slots[keys.state] = key_slot(keys.state.encode())
        return slot

    def owner(self, slot: int) -> Address:
        owner = self._owners[slot]
        if owner is None:
            raise RedisConnectionError(f"no node of the cluster serves slot {slot}")
        return owner

    async def refresh(self) -> None:
        """Learn which master serves which slot from the first node that answers."""
        failure: Exception | None = None
        for address in [*self.masters, *self._seeds]:
            try:
                ranges = await self.node(address).cluster("SLOTS")
            except (RedisError, OSError) as exc:  # not a cluster's node answers an error
                failure = exc
                continue
            self.take_slots(ranges, address)
            return
        raise RedisConnectionError(f"no node of the cluster answers: {failure}")

    def take_slots(self, ranges: list[Any], answered_by: Address) -> None:
        """Slot → master, from a `CLUSTER SLOTS` answer (a master without a known address is
        the node that answered)."""
        owners: list[Address | None] = [None] * REDIS_CLUSTER_HASH_SLOTS
        for start, end, master, *_replicas in ranges:
            host = master[0].decode() if isinstance(master[0], bytes) else str(master[0])
            address = (host, int(master[1])) if host not in ("", "?") else answered_by
            owners[start : end + 1] = [address] * (end - start + 1)
        self._owners = owners

    async def ensure_ok(self) -> None:
        """Raise an outage unless every master answers and says the cluster is ok."""
        await self.refresh()
        if None in self._owners:
            raise RedisConnectionError("the cluster leaves slots unserved")
        states = await _all(self.node(a).cluster("INFO") for a in self.masters)
        if any(state.get("cluster_state") != "ok" for state in states):
            raise RedisConnectionError("the cluster says its state is not ok")

    async def load(self, addresses: Iterable[Address]) -> None:
        """Load every script on the nodes at `addresses`."""
        await _all(self._load_on(self.node(a)) for a in addresses)

    async def _load_on(self, node: aioredis.Redis) -> None:
        for text in self.scripts.values():
            await node.script_load(text)

    async def run(self, calls: Sequence[QueuedCall]) -> list[Any]:
        """Each call's answer (an error answered in its place: see the module docstring)."""
        answers: list[Any] = [None] * len(calls)
        asked: dict[int, Address] = {}  # calls an ASK sent to the node importing their slot
        pending = list(range(len(calls)))
        for _ in range(ROUNDS):
            sends, held = self.route(calls, pending, asked)
            replies = await _all(
                self._pipeline(address, [(calls[i], i in asked) for i in indexes])
                for address, indexes in sends.items()
            )
            pending, reload, pause = held, set[Address](), False
            for (address, indexes), node_replies in zip(sends.items(), replies, strict=True):
                for i, reply in zip(indexes, node_replies, strict=True):
                    answers[i] = reply
                    if isinstance(reply, ClusterDownError):
                        raise RedisConnectionError(str(reply)) from reply
                    if isinstance(reply, MovedError):
                        self._owners[reply.slot_id] = reply.node_addr
                        asked.pop(i, None)
                    elif isinstance(reply, AskError):
                        asked[i] = reply.node_addr
                    elif isinstance(reply, TryAgainError):
                        pause = True
                    elif isinstance(reply, NoScriptError):
                        reload.add(address)
                    else:
                        continue
                    pending.append(i)
            if not pending:
                break
            pending.sort()
            await self.load(reload)
            if pause:
                await asyncio.sleep(TRY_AGAIN_S)
        resharding = [i for i in pending if isinstance(answers[i], TryAgainError)]
        if resharding:
            log.warning(
                "state store calls not shared: their slot is moving between nodes",
                calls=len(resharding),
            )
            for i in resharding:
                answers[i] = None
        return answers

    def route(
        self, calls: Sequence[QueuedCall], pending: list[int], asked: dict[int, Address]
    ) -> tuple[dict[Address, list[int]], list[int]]:
        """The calls to send to each node this round, in order, and those held back: a slot's
        calls go to one node at a time, so one sent elsewhere waits for those before it."""
        sends: dict[Address, list[int]] = {}
        held: list[int] = []
        node_of: dict[int, Address] = {}
        waiting: set[int] = set()
        for i in pending:
            slot = self.slot(calls[i].keys)
            address = asked.get(i) or self.owner(slot)
            if slot in waiting or node_of.setdefault(slot, address) != address:
                waiting.add(slot)
                held.append(i)
                continue
            sends.setdefault(address, []).append(i)
        return sends, held

    async def _pipeline(self, address: Address, calls: list[tuple[QueuedCall, bool]]) -> list[Any]:
        """Send `calls` (each with whether an ASK sent it here) to one node, in order."""
        positions: list[int] = []  # where each call's reply is, among ASKING's
        async with self.node(address).pipeline(transaction=False) as pipe:
            for call, asking in calls:
                sha = self.shas.get(call.script)
                if asking:
                    pipe.execute_command("ASKING")
                positions.append(len(pipe))
                if sha is None:  # PING
                    pipe.ping()
                else:
                    pipe.evalsha(sha, len(call.keys), *call.keys, *call.args)
            replies = await pipe.execute(raise_on_error=False)
        return [replies[p] for p in positions]

    async def aclose(self) -> None:
        nodes, self._nodes = self._nodes, {}
        for node in nodes.values():
            await node.aclose()


async def _all(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Their results, or the first error once they have all ended: none is left running
    behind an outage, to land after the calls the store sends once it is over."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast(list[T], results)
