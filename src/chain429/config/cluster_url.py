"""`settings.stateStore` naming a Redis Cluster: `redis+cluster://` (`rediss+cluster://` for
TLS), then the optional `user:password@` and one or more of the cluster's nodes, comma
separated (`host:port`, the port 6379 when left out): the store asks them for the others.

    redis+cluster://:secret@10.0.0.5:6379,10.0.0.6:6379,10.0.0.7:6379

A cluster has only database 0, so no other path is taken, and no query either.
"""

from __future__ import annotations

from typing import Final, NamedTuple
from urllib.parse import unquote, urlsplit

CLUSTER_SCHEMES: Final = ("redis+cluster://", "rediss+cluster://")
DEFAULT_PORT: Final = 6379
_EXAMPLE: Final = "redis+cluster://host:6379,host2:6379 (rediss+cluster:// for TLS)"


class ClusterUrl(NamedTuple):
    """What a `redis+cluster://` URL says: where to start and how to sign in."""

    nodes: tuple[tuple[str, int], ...]
    username: str | None
    password: str | None
    tls: bool


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES)


def parse_cluster_url(url: str) -> ClusterUrl:
    """The nodes and credentials of `url`; ValueError saying what is wrong with it."""
    parts = urlsplit(url)
    if not is_cluster_url(url):
        raise ValueError(f"not a Redis Cluster URL: write {_EXAMPLE}")
    # Nothing of the URL is quoted: a password with a character it should have encoded
    # (`/`, `?`, `#`) would be split into the part a message would quote.
    if parts.path not in ("", "/", "/0"):
        raise ValueError(
            f"a Redis Cluster has only database 0: the URL takes no path but /0 (write "
            f"{_EXAMPLE}; a password's `/`, `?`, `#` or `@` is percent-encoded)"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"a Redis Cluster URL takes no '?' or '#' part: write {_EXAMPLE}")
    credentials, _, hosts = parts.netloc.rpartition("@")
    nodes = tuple(_node(text, place) for place, text in enumerate(hosts.split(","), 1))
    username, _, password = credentials.partition(":")
    return ClusterUrl(
        nodes,
        unquote(username) or None,
        unquote(password) or None,
        tls=url.startswith("rediss+"),
    )


def _node(text: str, place: int) -> tuple[str, int]:
    try:
        node = urlsplit(f"//{text}")
        host, port = node.hostname, node.port
    except ValueError:
        host = None
    if not host or node.username is not None or node.path:
        raise ValueError(
            f"node {place} of the Redis Cluster URL is not host or host:port (a port from 1 "
            f"to 65535): write {_EXAMPLE}"
        )
    return host, DEFAULT_PORT if port is None else port
