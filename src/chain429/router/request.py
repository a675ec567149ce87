"""What the router is handed: one parsed client request, and the channel to answer on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from chain429.errors import Chain429Error


class Endpoint(StrEnum):
    CHAT = "/chat/completions"
    COMPLETIONS = "/completions"


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """A client request that passed validation. `body` is forwarded untouched but for `model`.

    `upstream_bodies` keeps the bodies sent upstream, serialised, by adapter kind and model:
    another key of a provider, or another entry of the same kind with the same model, sends the
    same bytes (see `router.attempt.Attempter`)."""

    request_id: str
    endpoint: Endpoint
    body: Mapping[str, Any]
    model: str | None
    stream: bool
    wants_usage: bool
    estimated_tokens: int
    max_tokens: int | None
    started_at: float
    upstream_bodies: dict[tuple[type, str], bytes] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )


class ClientStalled(Chain429Error, ConnectionError):
    """The client read nothing of its answer for the client timeout: the connection is
    dropped. A `ConnectionError`, so whatever treats a client gone treats this one so; the
    message says why, for the record."""


class ClientChannel(Protocol):
    """How the router answers the client; the web layer implements it."""

    async def reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        """Send a whole JSON answer; raises `ClientStalled` when the client read nothing of it
        for the client timeout (a client gone otherwise is the web layer's to notice)."""

    async def start_stream(self, headers: Mapping[str, str]) -> None:
        """Send the status line and headers of an SSE answer."""

    async def write(self, data: bytes) -> None:
        """Send bytes of a started stream; raises ConnectionError when the client has gone,
        `ClientStalled` when it read nothing for the client timeout."""

    async def end_stream(self) -> None:
        """End a started stream now (its last chunk), so the client has the whole answer before
        the bookkeeping that follows; raises ConnectionError when the client has gone."""

    @property
    def answered(self) -> int | None:
        """The status of the answer given so far (a whole one, or 200 for a started stream);
        None while the client has been given nothing."""
