"""`GET /api/providers/{id}/models`: the models a provider offers, from its own `/models`
(see `model_catalog`: bounded in time, kept a few minutes, errors reported)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from chain429.admin.api_route import ApiRoute
from chain429.admin.model_catalog import ModelCatalog, ModelList, ModelsError
from chain429.clock import iso_utc
from chain429.openai_errors import ErrorType
from chain429.responses import error_response, json_response
from chain429.state import STATE


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class OfferedModelAnswer(_Model):
    id: str
    owned_by: str | None
    created: int | None


class ProviderModelsAnswer(_Model):
    """`fetchedAt` (ISO 8601): when the list was read from the provider; it is kept a few
    minutes, so it may be older than the request."""

    provider: str
    models: list[OfferedModelAnswer]
    fetched_at: str


def model_routes(catalog: ModelCatalog) -> list[ApiRoute]:
    async def provider_models(request: web.Request) -> web.Response:
        state = request.app[STATE]
        config = state.config
        provider_id = request.match_info["id"]
        provider = next((p for p in config.providers if p.id == provider_id), None)
        if provider is None:
            message = f"Provider '{provider_id}' not found."
            return error_response(404, message, ErrorType.NOT_FOUND, "provider_not_found")
        routing = state.waterfall.routing
        try:
            found = await catalog.models(routing.plans[provider_id], routing.redactor)
        except ModelsError as exc:
            return error_response(exc.status, exc.message, ErrorType.UPSTREAM, exc.code)
        return json_response(_answer(found).model_dump(mode="json", by_alias=True))

    return [
        ApiRoute(
            method="GET",
            path="/api/providers/{id}/models",
            handler=provider_models,
            summary="The models a provider offers",
            tag="providers",
            answer=ProviderModelsAnswer,
            errors=(404, 502, 504),
            description=(
                "Read from the provider's own `/models` with its first key, within a few "
                "seconds, and kept a few minutes. 502: the provider answered with an error or "
                "with no model list; 504: it did not answer in time."
            ),
        )
    ]


def _answer(found: ModelList) -> ProviderModelsAnswer:
    return ProviderModelsAnswer(
        provider=found.provider,
        models=[
            OfferedModelAnswer(id=m.id, owned_by=m.owned_by, created=m.created)
            for m in found.models
        ],
        fetched_at=iso_utc(found.fetched_at),
    )
