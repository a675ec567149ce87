"""One configuration for every replica sharing a Redis: a change accepted by one reaches the
others within a second, and a stale change is refused on any of them.

Replicas may or may not share their config file (two VPSs, each with its own; Kubernetes
pods with one ConfigMap mounted read-only; a shared volume), so the file is not how a change
travels. A change made through the management API (or a reload: SIGHUP, `POST
/api/config/reload`) is validated and written to the file by the replica that took it, as with
one process; that replica then stores the new configuration in Redis under its version (the
`ETag`), with one script that refuses it when the fleet's version is no longer the one the
change was made on (so a stale `If-Match` is a 412 on every replica, and two replicas
changing at once cannot both win), and publishes the version on a channel.

Every replica subscribes. On a message, and each time its subscription (re)connects (at
start, after an outage), it reads the stored record and compares versions (`decide`):

- the same version: nothing to do;
- its own version is one the fleet replaced: it runs the stored configuration live, through
  the same path as a reload (validated, then swapped in), and writes no file. Exactly one
  replica writes a change to its file: the one that took it. A replica with a file of its own
  keeps its file as it was; when it restarts, its file's version is one the fleet replaced,
  so it takes the stored configuration again;
- its own version is one the fleet never had (a new file deployed, or a change it took while
  Redis was unreachable): it publishes it, and the others follow. The latest wins.

The record holds the whole configuration, provider keys included: Redis is trusted like the
config file itself (keep it private, with a password and TLS where it crosses a network).
Nothing here logs the configuration or any part of it.

Redis unreachable: changes still apply locally (said once in the log); the replica catches up
(or publishes what it took meanwhile) once its subscription is back.
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any, Final

import orjson
import structlog
from redis.exceptions import RedisClusterException, RedisError

from chain429.config.editor import ConfigEditor
from chain429.config.load import validate_config
from chain429.config.schema import Config
from chain429.config.version import config_version
from chain429.errors import ConfigError
from chain429.state_store import clients
from chain429.state_store.names import PREFIX
from chain429.state_store.redis_store import RETRY_S
from chain429.tasks import create_task, stop

log = structlog.get_logger("chain429.config")

#: One hash tag for both keys: the claim script runs on one Redis Cluster slot.
RECORD: Final = f"{PREFIX}:{{config}}:latest"
REPLACED: Final = f"{PREFIX}:{{config}}:replaced"
CHANNEL: Final = f"{PREFIX}:config"

#: KEYS: the record, the replaced versions. ARGV: the version the change was made on, the new
#: version, the new config (JSON), the channel, and the version this replica ran before
#: changes it took while Redis was unreachable (or the first again). Answers 1 (taken) or the
#: fleet's version.
CLAIM: Final = """
local current = redis.call('HGET', KEYS[1], 'version')
if current and current ~= ARGV[1] and current ~= ARGV[2] then
  return current
end
if current ~= ARGV[2] then
  redis.call('HSET', KEYS[1], 'version', ARGV[2], 'config', ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[1], ARGV[5])
  if current then
    redis.call('SADD', KEYS[2], current)
  end
  redis.call('SREM', KEYS[2], ARGV[2])
  redis.call('PUBLISH', ARGV[4], ARGV[2])
end
return 1
"""
#: Whatever Redis answers instead of doing the work: the change stays with this replica. (A
#: cluster client's own errors, such as no node reachable, are no `RedisError`.)
_OUTAGE = (RedisError, OSError, RedisClusterException)


class Action(Enum):
    """What a replica does after comparing its version with the fleet's."""

    NOTHING = "nothing"
    ADOPT = "adopt"
    PUBLISH = "publish"


def decide(local: str, fleet: str | None, replaced: bool, unpublished: bool) -> Action:
    """`local`: this replica's version; `fleet`: the stored one (None: nothing stored yet);
    `replaced`: whether the fleet replaced `local` once; `unpublished`: whether this replica
    took a change Redis has not heard of (it was unreachable)."""
    if fleet == local:
        return Action.NOTHING
    if unpublished or (fleet is not None and not replaced):
        return Action.PUBLISH
    if fleet is None:
        return Action.NOTHING
    return Action.ADOPT


class ConfigSharing:
    """Keeps `editor`'s configuration the fleet's; see the module docstring."""

    def __init__(self, url: str, editor: ConfigEditor, *, retry_s: float = RETRY_S) -> None:
        self._client = clients.commands(url)
        self._subscriber = clients.subscriber(url)  # the catch-up runs each time it is made
        self._editor = editor
        self._retry_s = retry_s
        self._claim = self._client.register_script(CLAIM)
        self._reachable = True
        self._unpublished = False
        self._based_on = editor.version
        self._follower: asyncio.Task[None] | None = None
        self._tried = asyncio.Event()
        editor.share_through(self.claim)

    async def start(self) -> None:
        """Catch up with the fleet (when Redis answers: an unreachable one is told in the log,
        and the catch-up runs once it answers), then follow its changes."""
        self._follower = create_task(self._follow(), name="config-sharing")
        await self._tried.wait()

    async def close(self) -> None:
        follower, self._follower = self._follower, None
        await stop(follower)
        await self._client.aclose()
        await self._subscriber.aclose()

    async def claim(self, before: str, config: Config) -> bool:
        """Store and publish `config` in place of `before`; False when the fleet runs another
        version. Redis unreachable: True (applied here, published once Redis is back)."""
        try:
            taken = await self._store(before, config)
        except _OUTAGE as exc:
            self._lost(exc)
        else:
            self._unpublished = self._unpublished and not taken
            return taken
        if not self._unpublished:
            self._based_on, self._unpublished = before, True
        return True

    async def _store(self, before: str, config: Config) -> bool:
        data = orjson.dumps(config.model_dump(mode="json", by_alias=True))
        version = config_version(config)
        args: list[str | bytes] = [
            before,
            version,
            data,
            CHANNEL,
            self._based_on if self._unpublished else before,
        ]
        answer = await self._claim(keys=[RECORD, REPLACED], args=args)
        return bool(answer == 1)

    async def _follow(self) -> None:
        while asyncio.current_task() is self._follower:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    await self._catch_up()
                    if asyncio.current_task() is not self._follower:
                        return  # redis-py may swallow a cancel landing while it subscribes
                    self._back()
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            await self._catch_up()
            except _OUTAGE as exc:
                self._lost(exc)
            except Exception:  # a bug of ours must not end the following for good
                log.error("config sharing failed: following again", exc_info=True)
                self._tried.set()
            await asyncio.sleep(self._retry_s)

    async def _catch_up(self) -> None:
        local = self._editor.version
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hmget(RECORD, ["version", "config"])
            pipe.sismember(REPLACED, local)
            (fleet, data), replaced = await pipe.execute()
        fleet_version = fleet.decode() if fleet is not None else None
        action = decide(local, fleet_version, bool(replaced), self._unpublished)
        if fleet_version == local:
            self._unpublished = False
        if action is Action.PUBLISH:
            if await self._store(fleet_version or self._based_on, self._editor.config):
                self._unpublished = False
                log.info("config published to the other replicas", version=self._editor.version)
            else:
                await self._catch_up()  # another replica published meanwhile
        elif action is Action.ADOPT:
            await self._adopt(fleet_version, data)

    async def _adopt(self, version: Any, data: bytes) -> None:
        try:
            config = validate_config(orjson.loads(data))
        except (ConfigError, orjson.JSONDecodeError) as exc:
            # The problems' field paths only: a message may quote a value, and values are keys.
            problems = [p.partition(": ")[0] for p in getattr(exc, "problems", [])]
            log.error("config from another replica not applied: invalid", problems=problems)
            return
        if await self._editor.adopt(config):
            log.info("config taken from another replica", version=version)

    def _lost(self, exc: BaseException) -> None:
        if self._reachable:
            log.warning(
                "config sharing unavailable: changes apply to this replica only until Redis "
                "answers",
                error=str(exc) or type(exc).__name__,
            )
        self._reachable = False
        self._tried.set()

    def _back(self) -> None:
        if not self._reachable:
            log.info("config sharing reachable again: caught up with the other replicas")
        self._reachable = True
        self._tried.set()
