"""The Redis connection behind the shared limit state: runs the scripts of `scripts`, in order.

Admissions wait for their answer; header reports, releases and cooldowns are writes nobody
waits for. All of them go through one queue and leave in the order they were made, batched
into one pipeline per round trip: a report sent before an admission is applied before it, as
it would be in one process, and a burst costs a few round trips, not one per request.

When Redis cannot be reached the store says so (`available` false, one warning in the log),
answers every admission with None (the caller serves on its local state) and drops the
writes; it tries again every `retry_s` and, once Redis answers, says so and shares again.
What was lost meanwhile comes back with the next headers; a lease taken before the outage
and lost with it is simply gone (its release finds nothing to give back).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chain429.state_store import scripts
from chain429.state_store.names import SlotKeys
from chain429.tasks import create_task

log = structlog.get_logger("chain429.state_store")

#: Seconds between two attempts to reach Redis again after it went away.
RETRY_S: Final = 1.0
#: Longest a command may take before Redis counts as unreachable.
TIMEOUT_S: Final = 1.0

SCRIPTS: Final = {
    "admit": scripts.ADMIT,
    "observe": scripts.OBSERVE,
    "release": scripts.RELEASE,
    "cool": scripts.COOL,
    "renew": scripts.RENEW,
}
Arg = str | int | float
_PING: Final = "ping"
_OUTAGE = (RedisConnectionError, RedisTimeoutError, OSError)


@dataclass(slots=True)
class _Call:
    script: str
    keys: SlotKeys
    args: Sequence[Arg]
    answer: asyncio.Future[Any] | None = None


class RedisStore:
    """One proxy's connection to the shared state; see the module docstring."""

    def __init__(self, url: str, *, retry_s: float = RETRY_S, timeout_s: float = TIMEOUT_S) -> None:
        # One quick retry: a connection Redis dropped (a restart) is replaced at once, and an
        # outage is told within `timeout_s`, not after a backoff.
        self._client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 1),
        )
        self._retry_s = retry_s
        self._pending: list[_Call] = []
        self._wake = asyncio.Event()
        self._shas: dict[str, str] = {}
        self._sender: asyncio.Task[None] | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[bool], None]] = []
        self.available = False

    def on_change(self, listener: Callable[[bool], None]) -> None:
        """Call `listener` with `available` each time Redis goes away or comes back."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Connect and load the scripts; an unreachable Redis is an outage, not a failure (the
        proxy starts on local state and shares once Redis answers)."""
        self._sender = create_task(self._send(), name="state-store")
        try:
            await self._load()
        except _OUTAGE as exc:
            self._lost(exc)
            return
        self._set_available(True)

    async def close(self) -> None:
        self._set_available(False)
        for task in (self._sender, self._reconnect):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._answer_all(self._pending)
        self._pending = []
        await self._client.aclose()

    async def call(self, script: str, keys: SlotKeys, args: Sequence[Arg]) -> Any:
        """Run `script` after every call made before it; its answer, or None when Redis is
        unreachable."""
        if not self.available:
            return None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(_Call(script, keys, args, answer))
        self._wake.set()
        return await answer

    def send(self, script: str, keys: SlotKeys, args: Sequence[Arg]) -> None:
        """Run `script` after every call made before it, without waiting for it (dropped while
        Redis is unreachable)."""
        if self.available:
            self._pending.append(_Call(script, keys, args))
            self._wake.set()

    async def flushed(self) -> None:
        """Wait until every call made so far has been run (or dropped by an outage)."""
        await self.call(_PING, SlotKeys("", "", ""), ())

    async def _load(self) -> None:
        for name, text in SCRIPTS.items():
            self._shas[name] = await self._client.script_load(text)

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                answers = await self._run(batch)
            except _OUTAGE as exc:
                self._lost(exc)
                self._answer_all(batch)
                continue
            except Exception:  # a bug of ours must not leave admissions waiting forever
                log.error("state store batch failed", calls=len(batch), exc_info=True)
                self._answer_all(batch)
                continue
            for call, answer in zip(batch, answers, strict=True):
                if call.answer is not None and not call.answer.done():
                    call.answer.set_result(answer)

    async def _run(self, batch: list[_Call]) -> list[Any]:
        answers = await self._pipeline(batch)
        if any(isinstance(a, NoScriptError) for a in answers):
            await self._load()  # Redis restarted (or its scripts were flushed): load them again
            again = [i for i, a in enumerate(answers) if isinstance(a, NoScriptError)]
            for i, answer in zip(
                again, await self._pipeline([batch[i] for i in again]), strict=True
            ):
                answers[i] = answer
        for i, answer in enumerate(answers):
            if isinstance(answer, RedisError):
                if isinstance(answer, _OUTAGE):
                    raise answer
                log.error("state store script failed", script=batch[i].script, error=str(answer))
                answers[i] = None
        return answers

    async def _pipeline(self, batch: list[_Call]) -> list[Any]:
        async with self._client.pipeline(transaction=False) as pipe:
            for call in batch:
                if call.script == _PING:
                    pipe.ping()
                    continue
                pipe.evalsha(self._shas[call.script], len(call.keys), *call.keys, *call.args)
            return list(await pipe.execute(raise_on_error=False))

    def _answer_all(self, batch: list[_Call]) -> None:
        for call in batch:
            if call.answer is not None and not call.answer.done():
                call.answer.set_result(None)

    def _lost(self, exc: BaseException) -> None:
        pending, self._pending = self._pending, []
        self._answer_all(pending)
        if self.available or self._reconnect is None or self._reconnect.done():
            log.warning(
                "state store unavailable: serving on local state",
                error=str(exc) or type(exc).__name__,
            )
        self._set_available(False)
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = create_task(self._reconnecting(), name="state-store-reconnect")

    async def _reconnecting(self) -> None:
        while True:
            await asyncio.sleep(self._retry_s)
            try:
                await self._client.ping()
                await self._load()
            except _OUTAGE:
                continue
            log.info("state store reachable again: limits are shared again")
            self._set_available(True)
            return

    def _set_available(self, available: bool) -> None:
        changed = available != self.available
        self.available = available
        if changed:
            for listener in self._listeners:
                listener(available)
