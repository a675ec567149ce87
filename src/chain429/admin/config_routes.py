"""Reading the running configuration: `/api/providers`, `/api/chains`, `/api/settings`,
`/api/config`, and the original 429chain's `GET /v1/admin/config`.

Every answer carries the configuration's version as its `ETag` (`config.version`), the value
a write sends back as `If-Match`. Keys appear as labels only (see `api_models`).
"""

from __future__ import annotations

from aiohttp import web

from chain429.admin.access import WRITES_OFF
from chain429.admin.api_models import (
    ChainList,
    ChainView,
    ConfigView,
    OriginalConfig,
    ProviderList,
    ProviderView,
    SettingsFields,
    SettingsView,
)
from chain429.admin.api_route import ApiRoute
from chain429.admin.config_change import answer, tagged
from chain429.admin.config_views import (
    chain_view,
    config_view,
    original_config,
    provider_view,
    settings_view,
)
from chain429.admin.settings_fields import setting_fields
from chain429.config.schema import Config
from chain429.openai_errors import ErrorType
from chain429.responses import error_response, json_response
from chain429.state import CONFIG_EDITOR, STATE


def config_read_routes() -> list[ApiRoute]:
    """The read routes of the management API (the writes come with the config editor)."""
    return [
        ApiRoute(
            "GET",
            "/api/providers",
            list_providers,
            "List the providers",
            "providers",
            answer=ProviderList,
            etag=True,
        ),
        ApiRoute(
            "GET",
            "/api/providers/{id}",
            get_provider,
            "Get one provider",
            "providers",
            answer=ProviderView,
            errors=(404,),
            etag=True,
        ),
        ApiRoute(
            "GET",
            "/api/chains",
            list_chains,
            "List the chains, in config order",
            "chains",
            answer=ChainList,
            etag=True,
        ),
        ApiRoute(
            "GET",
            "/api/chains/{name}",
            get_chain,
            "Get one chain",
            "chains",
            answer=ChainView,
            errors=(404,),
            etag=True,
        ),
        ApiRoute(
            "GET",
            "/api/settings",
            get_settings,
            "Get the settings",
            "settings",
            answer=SettingsView,
            etag=True,
        ),
        ApiRoute(
            "GET",
            "/api/settings/fields",
            get_setting_fields,
            "What each setting means, and whether changes can be saved",
            "settings",
            answer=SettingsFields,
            description="Each setting's description, kind of value, bounds, default and whether "
            "it applies only at a restart, in the file's order; `writable` is false (with "
            "`readOnlyReason`) when the config file cannot be written, so every write would be "
            "a 409.",
        ),
        ApiRoute(
            "GET",
            "/api/config",
            get_config,
            "Get the whole configuration as it runs",
            "config",
            answer=ConfigView,
            etag=True,
            description="`${VAR}` references expanded; keys as labels. The `ETag` is the "
            "configuration's version: send it back as `If-Match` with a write.",
        ),
        ApiRoute(
            "GET",
            "/v1/admin/config",
            get_original_config,
            "The configuration in the original 429chain's shape",
            "compatibility",
            answer=OriginalConfig,
            etag=True,
        ),
    ]


def _config(request: web.Request) -> Config:
    return request.app[STATE].config


async def list_providers(request: web.Request) -> web.Response:
    config = _config(request)
    return answer(
        ProviderList(providers=[provider_view(p, config) for p in config.providers]), config
    )


async def get_provider(request: web.Request) -> web.Response:
    config = _config(request)
    wanted = request.match_info["id"]
    found = next((p for p in config.providers if p.id == wanted), None)
    if found is None:
        return _not_found(f"No provider '{wanted[:100]}'.", "provider_not_found")
    return answer(provider_view(found, config), config)


async def list_chains(request: web.Request) -> web.Response:
    config = _config(request)
    default = config.settings.default_chain
    return answer(ChainList(chains=[chain_view(c, default) for c in config.chains]), config)


async def get_chain(request: web.Request) -> web.Response:
    config = _config(request)
    wanted = request.match_info["name"]
    found = config.chain(wanted)
    if found is None:
        return _not_found(f"No chain '{wanted[:100]}'.", "chain_not_found")
    return answer(chain_view(found, config.settings.default_chain), config)


async def get_settings(request: web.Request) -> web.Response:
    config = _config(request)
    return answer(settings_view(config.settings), config)


async def get_setting_fields(request: web.Request) -> web.Response:
    given = request.app[CONFIG_EDITOR].environment_settings()
    fields = SettingsFields(
        writable=(reason := _read_only_reason(request)) is None,
        read_only_reason=reason,
        fields=[
            field.model_copy(update={"set_by_environment": True}) if field.name in given else field
            for field in setting_fields()
        ],
    )
    return json_response(fields.model_dump(mode="json", by_alias=True))


async def get_config(request: web.Request) -> web.Response:
    config = _config(request)
    return answer(config_view(config), config)


async def get_original_config(request: web.Request) -> web.Response:
    config = _config(request)
    return tagged(json_response(original_config(config)), config)


def _read_only_reason(request: web.Request) -> str | None:
    """None, or why every write would be refused: no admin keys (writes off), no config file,
    a config file that cannot be written."""
    if not _config(request).settings.admin_keys:
        return WRITES_OFF
    reason = request.app[CONFIG_EDITOR].writable()
    return None if reason is None else reason[:1].upper() + reason[1:] + "."


def _not_found(message: str, code: str) -> web.Response:
    return error_response(404, message, ErrorType.NOT_FOUND, code)
