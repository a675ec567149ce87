"""A management write as one change of the config file: the route's edit runs through the
app's `ConfigEditor` (saved, then applied), under the request's `If-Match`, and the editor's
errors become the route's answers.

| editor error | status | code |
|---|---|---|
| `StaleVersion` | 412 | `stale_version` |
| `NoConfigFile` | 409 | `no_config_file` |
| `ReadOnlyConfig` | 409 | `config_read_only` |
| `NotFound` | 404 | the route's (`provider_not_found`, `chain_not_found`) |
| `ProviderInUse` | 409 | `provider_in_use` |
| `Conflict` | 409 | `default_chain` |
| `ConfigError` | 422 | `invalid_config`, `param` the first field path |
| `ConfigWriteError` | 500 | `config_write_failed` |

An edit may raise a `RouteError` of its own (a provider that exists already); it is answered
as it is. No message quotes the file's text or a key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel

from chain429.admin.route_error import RouteError
from chain429.config.document import ConfigDocument, Conflict, NotFound, ProviderInUse
from chain429.config.editor import NoConfigFile, StaleVersion
from chain429.config.save import ConfigWriteError, ReadOnlyConfig
from chain429.config.schema import Config
from chain429.config.version import config_version
from chain429.errors import Chain429Error, ConfigError
from chain429.openai_errors import ErrorType
from chain429.reconfigure import changes
from chain429.responses import json_response
from chain429.state import CONFIG_EDITOR

T = TypeVar("T")

Edit = Callable[[ConfigDocument], T]

CHANGE_REFUSED: Final = "The change would make the configuration invalid (nothing was changed)"
RELOAD_REFUSED: Final = (
    "The config file is invalid, so it was not applied (the running configuration stays)"
)


@dataclass(frozen=True, slots=True)
class Changed(Generic[T]):
    """A change saved and applied: the config before and after, and what the edit returned."""

    before: Config
    config: Config
    result: T

    @property
    def restart_required(self) -> list[str]:
        """The settings it changed that take effect only at the next start (field paths)."""
        return list(changes(self.before, self.config).restart_required)


async def change_config(
    request: web.Request, edit: Edit[T], *, not_found: str = "not_found"
) -> Changed[T]:
    """Run `edit` on the config file and apply the result; a RouteError says why not.
    `not_found` is the code of a 404 (the edit named a provider or chain that is not there)."""
    editor = request.app[CONFIG_EDITOR]
    before = editor.config
    try:
        config, result = await editor.change(edit, request.headers.get("If-Match"))
    except Chain429Error as exc:
        raise route_error(exc, not_found) from exc
    return Changed(before, config, result)


async def reload_config(request: web.Request) -> Changed[None]:
    """Read the config file again and apply it; a RouteError (422 for an invalid file, the
    running config kept) says why not."""
    editor = request.app[CONFIG_EDITOR]
    before = editor.config
    try:
        config = await editor.reload(request.headers.get("If-Match"))
    except ConfigError as exc:
        raise invalid_config(exc, RELOAD_REFUSED) from exc
    except Chain429Error as exc:
        raise route_error(exc) from exc
    return Changed(before, config, None)


def route_error(exc: Chain429Error, not_found: str = "not_found") -> RouteError:
    """The answer to an error of the editor (or `exc` itself, a RouteError of an edit)."""
    if isinstance(exc, RouteError):
        return exc
    if isinstance(exc, StaleVersion):
        return RouteError(412, f"{_sentence(exc)} (GET /api/config).", "stale_version")
    if isinstance(exc, NoConfigFile):
        return RouteError(409, _sentence(exc) + ".", "no_config_file")
    if isinstance(exc, ReadOnlyConfig):
        return RouteError(409, _sentence(exc) + ".", "config_read_only")
    if isinstance(exc, NotFound):
        return RouteError(404, _sentence(exc) + ".", not_found, ErrorType.NOT_FOUND)
    if isinstance(exc, ProviderInUse):
        return RouteError(409, _sentence(exc) + ".", "provider_in_use")
    if isinstance(exc, Conflict):
        return RouteError(409, _sentence(exc) + ".", "default_chain")
    if isinstance(exc, ConfigError):
        return invalid_config(exc)
    if isinstance(exc, ConfigWriteError):
        return RouteError(500, _sentence(exc) + ".", "config_write_failed", ErrorType.SERVER)
    raise exc


def invalid_config(exc: ConfigError, lead: str = CHANGE_REFUSED) -> RouteError:
    """A 422 naming the first problem's field path in `param` and listing every problem."""
    first = exc.problems[0] if exc.problems else ""
    path, colon, _ = first.partition(": ")
    return RouteError(
        422,
        f"{lead}: " + "; ".join(exc.problems) + ".",
        "invalid_config",
        param=path if colon and " " not in path else None,
    )


def answer(model: BaseModel, config: Config, status: int = 200) -> web.Response:
    """`model` as JSON, with `config`'s version as the `ETag`."""
    return tagged(json_response(model.model_dump(mode="json", by_alias=True), status), config)


def tagged(response: web.Response, config: Config) -> web.Response:
    """`response` with `config`'s version as its `ETag` (what a write sends as `If-Match`)."""
    response.headers["ETag"] = config_version(config)
    return response


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:]
