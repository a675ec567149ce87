"""The original 429chain's admin writes, with its request and answer shapes, for scripts written
against it: `PUT`/`DELETE /v1/admin/providers/{id}`, `PUT`/`DELETE /v1/admin/chains/{name}`.

They change the config the same way as `/api` (`config_change`: validated, saved keeping the
file's comments, applied live) and answer errors as the original did, `{"error": "<message>"}`:
400 for a body or a change the schema refuses, 404, 500 when the file cannot be written
(`Failed to persist config: ...`), and, where this proxy refuses what the original could not
know of, 409 (a read-only config) and 412 (a stale `If-Match`, which the original never sent).
A provider's `apiKey: "***"` (the original's mask, as `GET /v1/admin/config` shows it) keeps
the provider's key, like a key left out; a header sent as `"***"` keeps that header's value (a
400 when the provider has no such header).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from chain429.admin.api_body import read_body
from chain429.admin.api_models import (
    Deleted,
    OriginalChain,
    OriginalChainAnswer,
    OriginalChainBody,
    OriginalProviderAnswer,
    ProviderBody,
)
from chain429.admin.api_route import ApiRoute, Handler
from chain429.admin.config_change import answer, change_config
from chain429.admin.config_views import MASK, original_provider
from chain429.admin.config_write_routes import provider_data
from chain429.admin.route_error import RouteError
from chain429.config.document import ConfigDocument, Conflict, NotFound, ProviderInUse

ERRORS = (400, 409, 412, 500)


def original_write_routes() -> list[ApiRoute]:
    """The original 429chain's `/v1/admin` writes."""
    return [
        _route("PUT", "/v1/admin/providers/{id}", put_provider, "Create or replace a provider",
               ProviderBody, OriginalProviderAnswer),
        _route("DELETE", "/v1/admin/providers/{id}", delete_provider, "Delete a provider",
               None, Deleted, not_found=True),
        _route("PUT", "/v1/admin/chains/{name}", put_chain, "Create or replace a chain",
               OriginalChainBody, OriginalChainAnswer),
        _route("DELETE", "/v1/admin/chains/{name}", delete_chain, "Delete a chain",
               None, Deleted, not_found=True),
    ]  # fmt: skip


def _route(
    method: str,
    path: str,
    handler: Handler,
    summary: str,
    body: type[Any] | None,
    result: type[Any],
    *,
    not_found: bool = False,
) -> ApiRoute:
    return ApiRoute(
        method,
        path,
        _original_errors(handler),
        f"{summary} (the original 429chain's route)",
        "compatibility",
        body=body,
        answer=result,
        errors=tuple(sorted({*ERRORS, *((404,) if not_found else ())})),
        etag=True,
        if_match=True,
    )


def _original_errors(handler: Handler) -> Handler:
    """`handler`, its RouteErrors answered in the original's shape; a body the API would call
    unprocessable (422) is a 400, as the original answered it."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except RouteError as exc:
            if exc.status == 422:
                exc.status = 400
            if exc.status == 500:
                exc.message = f"Failed to persist config: {exc.message}"
            return exc.original_answer()

    return guarded


async def put_provider(request: web.Request) -> web.Response:
    provider_id = request.match_info["id"]
    body = await read_body(request, ProviderBody)
    if body.id != provider_id:
        raise RouteError(
            400, f"Provider id '{body.id[:100]}' does not match the URL's.", "id_mismatch"
        )
    data = _unmasked(provider_data(body, provider_id))

    def put(document: ConfigDocument) -> None:
        stored = document.provider(provider_id) or {}
        document.put_provider(_unmasked_headers(data, stored.get("headers")))

    changed = await change_config(request, put)
    shown = original_provider(changed.config.provider(provider_id), changed.config)
    return answer(OriginalProviderAnswer(provider=shown), changed.config)


async def delete_provider(request: web.Request) -> web.Response:
    provider_id = request.match_info["id"]

    def delete(document: ConfigDocument) -> None:
        try:
            document.delete_provider(provider_id)
        except NotFound as exc:
            raise RouteError(404, "Provider not found", "provider_not_found") from exc
        except ProviderInUse as exc:
            chains = ", ".join(exc.chains)
            raise RouteError(
                400, f"Provider is referenced by chains: {chains}", "provider_in_use"
            ) from exc

    changed = await change_config(request, delete)
    return answer(Deleted(deleted=provider_id), changed.config)


async def put_chain(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    body = await read_body(request, OriginalChainBody)
    entries = [e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in body.entries]

    def put(document: ConfigDocument) -> None:
        missing = [e["provider"] for e in entries if document.provider(e["provider"]) is None]
        if missing:
            raise RouteError(
                400,
                f"Chain references non-existent providers: {', '.join(dict.fromkeys(missing))}",
                "unknown_provider",
            )
        document.put_chain(name, entries)

    changed = await change_config(request, put)
    chain = changed.config.chain(name)
    assert chain is not None, "a chain just saved is in the config"
    shown = OriginalChain(name=chain.name, entries=list(chain.entries))
    return answer(OriginalChainAnswer(chain=shown), changed.config)


async def delete_chain(request: web.Request) -> web.Response:
    name = request.match_info["name"]

    def delete(document: ConfigDocument) -> None:
        try:
            document.delete_chain(name)
        except NotFound as exc:
            raise RouteError(404, "Chain not found", "chain_not_found") from exc
        except Conflict as exc:
            raise RouteError(400, "Cannot delete default chain", "default_chain") from exc

    changed = await change_config(request, delete)
    return answer(Deleted(deleted=name), changed.config)


def _unmasked(data: dict[str, Any]) -> dict[str, Any]:
    """`data` without the original's masked keys: a `***` sent back keeps the key."""
    if data.get("apiKey") == MASK:
        del data["apiKey"]
    if data.get("apiKeys") and all(key == MASK for key in data["apiKeys"]):
        del data["apiKeys"]
    return data


def _unmasked_headers(data: dict[str, Any], stored: Any) -> dict[str, Any]:
    """`data` with each header sent as `***` given back the value the file has for it."""
    headers = data.get("headers")
    if not headers or MASK not in headers.values():
        return data
    raws = {str(k).lower(): v for k, v in stored.items()} if isinstance(stored, Mapping) else {}
    kept = {}
    for name, value in headers.items():
        if value == MASK and name.lower() not in raws:
            raise RouteError(
                400,
                f"Header '{name[:100]}' is sent as '***' but the provider has no such header "
                "to keep: send its value.",
                "masked_header",
            )
        kept[name] = raws[name.lower()] if value == MASK else value
    return {**data, "headers": kept}
