"""What a one-server Redis URL of `settings.stateStore` names:
`redis[s]://[[username]:password@]host[:port][/db]` (`rediss` for TLS). Read here, where the
config schema checks it when the config loads, and by the store's connection
(`state_store.resp.RedisAddress`). No message quotes any part of the URL: a password with an
unencoded `/` would be in it."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from chain429.config.cluster_url import DEFAULT_PORT


class RedisUrl(NamedTuple):
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    db: int


def parse_redis_url(url: str) -> RedisUrl:
    """The parts of `url`; a ValueError says what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"not a Redis URL (redis:// or rediss://): {parts.scheme}://")
    if parts.query:
        raise ValueError("a Redis URL takes no options (?...): write the database as /<n>")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise ValueError(
            "the database of a Redis URL is a number (/0); percent-encode a / ? # or @ "
            "in the password"
        )
    try:
        port = parts.port
    except ValueError:  # urllib's message quotes the port, which may be part of a password
        raise ValueError(
            "the port of a Redis URL is a number; percent-encode a / ? # or @ in the password"
        ) from None
    return RedisUrl(
        host=parts.hostname or "localhost",
        port=port or DEFAULT_PORT,
        tls=parts.scheme == "rediss",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        db=int(path) if path else 0,
    )
