"""`GET /api/replicas`: the replicas sharing this proxy's Redis (`settings.stateStore`), as
the dashboard's fleet badge shows them (see `state_store.replicas`)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chain429.admin.api_route import ApiRoute
from chain429.responses import json_response
from chain429.state import STATE


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ReplicaAnswer(_Model):
    """One replica; times are epoch milliseconds."""

    id: str = Field(description="Drawn at random when the replica starts.")
    host: str
    pid: int
    version: str
    started_at: int
    last_seen: int
    watching: bool = Field(description="Whether a dashboard follows its live requests.")


class ReplicasAnswer(_Model):
    state_store: Literal["memory", "shared", "local"] = Field(
        description="As `/health` says it: `memory`, `shared` or `local` (Redis unreachable)."
    )
    self_id: str | None = Field(description="This replica's id; null with the memory store.")
    replicas: list[ReplicaAnswer] = Field(
        description=(
            "The replicas seen within the last 10 s, oldest first, this one included; only "
            "this one while Redis is unreachable, none with the memory store."
        )
    )


async def list_replicas(request: web.Request) -> web.Response:
    state = request.app[STATE]
    fleet = state.fleet
    answer = ReplicasAnswer(
        state_store=state.state_store_status(),
        self_id=None if fleet is None else fleet.me.id,
        replicas=[]
        if fleet is None
        else [
            ReplicaAnswer(
                id=r.id,
                host=r.host,
                pid=r.pid,
                version=r.version,
                started_at=round(r.started_at * 1000),
                last_seen=round(r.last_seen * 1000),
                watching=r.watching,
            )
            for r in fleet.replicas
        ],
    )
    return json_response(answer.model_dump(mode="json", by_alias=True))


def replica_routes() -> list[ApiRoute]:
    return [
        ApiRoute(
            "GET",
            "/api/replicas",
            list_replicas,
            summary="The replicas sharing this proxy's Redis",
            tag="replicas",
            answer=ReplicasAnswer,
            description=(
                "Each replica refreshes a record of itself in Redis every second (id, host, "
                "pid, version, start, last seen; nothing of the configuration). With the "
                "memory store the proxy is one process: `replicas` is empty."
            ),
        )
    ]
