"""The redis-py clients of what goes beside the store's ordered queue (`redis_store`): the
shared configuration, the fleet's records and feed, the channels that wake queues and tell
probe answers. Of a Redis Cluster when the URL names one (`redis+cluster://`), of one server
otherwise; with the same timeouts either way."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from chain429.config.cluster_url import is_cluster_url, parse_cluster_url
from chain429.state_store.redis_store import TIMEOUT_S

Client = aioredis.Redis | RedisCluster


def commands(url: str) -> Client:
    """A client for commands: each answered within `TIMEOUT_S`, retried once (a connection
    Redis dropped is replaced at once)."""
    if is_cluster_url(url):
        return _cluster(url, timeout_s=TIMEOUT_S, retries=1)
    return aioredis.Redis.from_url(
        url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S, retry=Retry(NoBackoff(), 1)
    )


def subscriber(url: str) -> Client:
    """A client for a subscription: no read timeout (it waits for messages), no retry (a lost
    connection ends the subscription, which its owner makes again), and keepalive (a
    connection gone silent, a partition, ends too, in time)."""
    if is_cluster_url(url):
        return _cluster(url, timeout_s=None, retries=0)
    return aioredis.Redis.from_url(
        url, socket_connect_timeout=TIMEOUT_S, socket_keepalive=True, retry=Retry(NoBackoff(), 0)
    )


async def publish(client: Client, channel: str, messages: Sequence[bytes]) -> None:
    """Publish `messages` on `channel`, in order: in one pipeline on one server, one after the
    other on a cluster (its pipelines refuse PUBLISH, which names no key; published on any
    node, a message reaches the subscribers of every node)."""
    if isinstance(client, RedisCluster):
        for message in messages:
            await client.publish(channel, message)
        return
    async with client.pipeline(transaction=False) as pipe:
        for message in messages:
            pipe.publish(channel, message)
        await pipe.execute()


def _cluster(url: str, *, timeout_s: float | None, retries: int) -> RedisCluster:
    """A redis-py client of the cluster at `url` (`timeout_s` None: reads wait, for a
    subscription). Its configuration keys share one hash tag, and a message published on any
    node reaches the subscribers of every node."""
    parsed = parse_cluster_url(url)
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in parsed.nodes],
        username=parsed.username,
        password=parsed.password,
        ssl=parsed.tls,
        socket_timeout=timeout_s,
        socket_connect_timeout=TIMEOUT_S,
        socket_keepalive=True,
        retry=Retry(NoBackoff(), retries),
    )
