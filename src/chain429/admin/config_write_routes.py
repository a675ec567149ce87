"""Changing the running configuration: create, replace and delete providers and chains, patch
the settings, reload the file.

Each write is one change of the config file (`config_change`): validated like the file, saved,
then applied live. Each takes `If-Match` (the `ETag` a read answered; `*` or none: no
precondition) and answers the new object with the new `ETag`; a settings change or a reload
names the settings it changed that apply only at the next start (`restartRequired`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from chain429.admin.api_body import read_body
from chain429.admin.api_models import (
    ChainBody,
    ChainView,
    ConfigReload,
    Deleted,
    NewChainBody,
    ProviderBody,
    ProviderUpdate,
    ProviderView,
    SettingsChange,
    SettingsPatch,
)
from chain429.admin.api_route import ApiRoute, Handler
from chain429.admin.config_change import answer, change_config, reload_config
from chain429.admin.config_views import (
    chain_view,
    config_view,
    provider_view,
    settings_view,
)
from chain429.admin.route_error import RouteError
from chain429.config.document import ConfigDocument
from chain429.config.schema import Config, shown_url
from chain429.state import STATE

#: Every write may answer these, besides its own.
WRITE_ERRORS = (409, 412, 422, 500)
#: Labels an answer showed, sent back with a body: never written.
_LABEL_FIELDS = {"keys", "api_key_labels", "admin_key_labels", "is_default"}


def config_write_routes() -> list[ApiRoute]:
    """The write routes of the management API."""
    return [
        _write(
            "POST",
            "/api/providers",
            create_provider,
            "Create a provider",
            "providers",
            ProviderBody,
            ProviderView,
            status=201,
        ),
        _write(
            "PUT",
            "/api/providers/{id}",
            put_provider,
            "Create or replace a provider",
            "providers",
            ProviderUpdate,
            ProviderView,
            description="Keys left out, or sent as the labels an answer showed, are kept; so are "
            "header values sent as their labels.",
        ),
        _write(
            "DELETE",
            "/api/providers/{id}",
            delete_provider,
            "Delete a provider",
            "providers",
            None,
            Deleted,
            errors=(404,),
            description="A 409 `provider_in_use` names the chains that use it.",
        ),
        _write(
            "POST",
            "/api/chains",
            create_chain,
            "Create a chain",
            "chains",
            NewChainBody,
            ChainView,
            status=201,
        ),
        _write(
            "PUT",
            "/api/chains/{name}",
            put_chain,
            "Create or replace a chain",
            "chains",
            ChainBody,
            ChainView,
            description="The entries' order is the chain's order.",
        ),
        _write(
            "DELETE",
            "/api/chains/{name}",
            delete_chain,
            "Delete a chain",
            "chains",
            None,
            Deleted,
            errors=(404,),
            description="The default chain cannot be deleted (409 `default_chain`).",
        ),
        _write(
            "PATCH",
            "/api/settings",
            patch_settings,
            "Change settings",
            "settings",
            SettingsPatch,
            SettingsChange,
            description="Fields left out stay; `null` puts a setting back to its default.",
        ),
        _write(
            "POST",
            "/api/config/reload",
            reload,
            "Read the config file again and apply it",
            "config",
            None,
            ConfigReload,
            description="An invalid file is a 422 listing its problems with field paths; "
            "the running configuration stays.",
        ),
    ]


def _write(
    method: str,
    path: str,
    handler: Handler,
    summary: str,
    tag: str,
    body: type[Any] | None,
    result: type[Any],
    *,
    status: int = 200,
    errors: tuple[int, ...] = (),
    description: str = "",
) -> ApiRoute:
    return ApiRoute(
        method,
        path,
        answering(handler),
        summary,
        tag,
        body=body,
        answer=result,
        status=status,
        errors=tuple(sorted({*errors, *WRITE_ERRORS, *((400,) if body else ())})),
        description=description,
        etag=True,
        if_match=True,
    )


def answering(handler: Handler) -> Handler:
    """`handler`, its RouteErrors answered in the OpenAI error shape."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except RouteError as exc:
            return exc.answer()

    return guarded


def provider_data(body: ProviderBody | ProviderUpdate, provider_id: str) -> dict[str, Any]:
    """A provider body as the file spells it: the fields given, labels left out."""
    fields = body.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude=_LABEL_FIELDS)
    data = {"id": provider_id, **{k: v for k, v in fields.items() if k != "id"}}
    if not data.get("headers", True):
        del data["headers"]  # as an answer shows "none": the file need not say so
    return data


def entries_data(body: ChainBody) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in body.entries]


async def create_provider(request: web.Request) -> web.Response:
    body = await read_body(request, ProviderBody)
    data = provider_data(body, body.id)

    def create(document: ConfigDocument) -> None:
        if document.provider(body.id) is not None:
            raise RouteError(
                409,
                f"A provider '{body.id}' exists already: PUT /api/providers/{body.id} replaces it.",
                "provider_exists",
            )
        document.put_provider(data)

    changed = await change_config(request, create)
    return answer(
        provider_view(changed.config.provider(body.id), changed.config), changed.config, 201
    )


async def put_provider(request: web.Request) -> web.Response:
    provider_id = request.match_info["id"]
    body = await read_body(request, ProviderUpdate)
    if body.id is not None and body.id != provider_id:
        raise _mismatch("id", body.id, provider_id)
    data = provider_data(body, provider_id)
    changed = await change_config(request, lambda document: document.put_provider(data))
    return answer(
        provider_view(changed.config.provider(provider_id), changed.config), changed.config
    )


async def delete_provider(request: web.Request) -> web.Response:
    provider_id = request.match_info["id"]
    changed = await change_config(
        request,
        lambda document: document.delete_provider(provider_id),
        not_found="provider_not_found",
    )
    return answer(Deleted(deleted=provider_id), changed.config)


async def create_chain(request: web.Request) -> web.Response:
    body = await read_body(request, NewChainBody)
    entries = entries_data(body)

    def create(document: ConfigDocument) -> None:
        if document.chain(body.name) is not None:
            raise RouteError(
                409,
                f"A chain '{body.name}' exists already: PUT /api/chains/{body.name} replaces it.",
                "chain_exists",
            )
        document.put_chain(body.name, entries)

    changed = await change_config(request, create)
    return _chain_answer(changed.config, body.name, 201)


async def put_chain(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    body = await read_body(request, ChainBody)
    if body.name is not None and body.name != name:
        raise _mismatch("name", body.name, name)
    entries = entries_data(body)
    changed = await change_config(request, lambda document: document.put_chain(name, entries))
    return _chain_answer(changed.config, name)


async def delete_chain(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    changed = await change_config(
        request, lambda document: document.delete_chain(name), not_found="chain_not_found"
    )
    return answer(Deleted(deleted=name), changed.config)


async def patch_settings(request: web.Request) -> web.Response:
    body = await read_body(request, SettingsPatch)
    data = body.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude=_LABEL_FIELDS)
    database = request.app[STATE].config.settings.database
    if database is not None and data.get("database") == shown_url(database):
        del data["database"]  # the URL as an answer shows it: the password stays
    if data.get("stateStore") == shown_url(request.app[STATE].config.settings.state_store):
        del data["stateStore"]  # sent back as it was shown: its password is not `***`
    changed = await change_config(request, lambda document: document.update_settings(data))
    view = settings_view(changed.config.settings)
    shown = SettingsChange(**dict(view), restart_required=changed.restart_required)
    return answer(shown, changed.config)


async def reload(request: web.Request) -> web.Response:
    changed = await reload_config(request)
    view = config_view(changed.config)
    shown = ConfigReload(**dict(view), restart_required=changed.restart_required)
    return answer(shown, changed.config)


def _chain_answer(config: Config, name: str, status: int = 200) -> web.Response:
    chain = config.chain(name)
    assert chain is not None, "a chain just saved is in the config"
    return answer(chain_view(chain, config.settings.default_chain), config, status)


def _mismatch(field: str, given: str, path: str) -> RouteError:
    return RouteError(
        422,
        f"The body's {field} '{given[:100]}' is not the path's '{path[:100]}': leave it out "
        "or make them the same.",
        f"{field}_mismatch",
        param=field,
    )
