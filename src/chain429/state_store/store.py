"""What the shared limit state is to the tracker and the app, wherever it lives: one Redis
server (`redis_store.RedisStore`) or a Redis Cluster (`cluster_store.ClusterStore`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from chain429.state_store.names import SlotKeys
from chain429.state_store.redis_store import Arg


class StateStore(Protocol):
    """Runs the scripts of `scripts` in the order they were asked for; while it cannot
    (`available` false) admissions are answered None and writes dropped."""

    available: bool

    def on_change(self, listener: Callable[[bool], None]) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def call(self, script: str, keys: SlotKeys, args: Sequence[Arg]) -> Any: ...

    def send(self, script: str, keys: SlotKeys, args: Sequence[Arg]) -> None: ...

    async def flushed(self) -> None: ...
