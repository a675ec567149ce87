"""The OpenAPI 3.1 document of the management API, built from the `ApiRoute` list and the
pydantic models that validate bodies and shape answers: nothing in it is written by hand.

Each model's JSON schema lands in `components/schemas` (operations point at it with `$ref`);
every error answer is the OpenAI error shape (`ErrorBody`), except the errors that the
original 429chain's routes (`/v1/...`) answer in its own shape (`OriginalError`); every
operation asks for the bearer key, whose 401 and 403 are shared `components/responses`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chain429 import __version__
from chain429.admin.api_models import ErrorBody, OriginalError
from chain429.admin.api_route import ApiRoute

OPENAPI_VERSION: Final = "3.1.0"
REF_TEMPLATE: Final = "#/components/schemas/{model}"
TITLE: Final = "429chain management API"
DESCRIPTION: Final = (
    "Reads and changes the running 429chain: providers, chains, settings, statistics and rate "
    "limits. Every route takes `Authorization: Bearer <key>`: an admin key "
    "(`settings.adminKeys`); without admin keys, the reads take a client key "
    "(`settings.apiKeys`) and every write is refused. Keys are write-only: answers show labels."
)
_PARAMETER: Final = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
IF_MATCH: Final = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The `ETag` of the configuration the change was made against (or `*`): "
    "another version is a 412 `stale_version`. Left out: no precondition.",
    "schema": {"type": "string"},
}
_SHARED_ERRORS: Final = {
    401: "Unauthorized",
    403: "Forbidden",
}


def openapi_document(routes: Sequence[ApiRoute]) -> dict[str, Any]:
    """The whole document for `routes`."""
    schemas, refs = _schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = _PARAMETER.sub(r"{\1}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, refs, schemas)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": __version__, "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                name: _error_answer(status, ErrorBody, refs)
                for status, name in _SHARED_ERRORS.items()
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An admin key (settings.adminKeys), or for reads without "
                    "admin keys a client key (settings.apiKeys).",
                }
            },
        },
        "security": [{"bearer": []}],
        "tags": [{"name": tag} for tag in dict.fromkeys(r.tag for r in routes)],
    }


#: The `$ref` of each (model, mode); the model is typed loosely as pydantic keys it.
Refs = dict[tuple[Any, JsonSchemaMode], dict[str, Any]]


def _schemas(routes: Sequence[ApiRoute]) -> tuple[dict[str, Any], Refs]:
    """components/schemas, and the `$ref` of each (model, mode) the operations use."""
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (ErrorBody, "serialization"): None,
        (OriginalError, "serialization"): None,
    }
    for route in routes:
        for model, mode in _models(route):
            wanted[(model, mode)] = None
    refs, top = models_json_schema(list(wanted), ref_template=REF_TEMPLATE)
    return dict(top.get("$defs", {})), refs


def _models(route: ApiRoute) -> Iterable[tuple[type[BaseModel], JsonSchemaMode]]:
    if route.body is not None:
        yield route.body, "validation"
    if route.query is not None:
        yield route.query, "validation"
    if route.answer is not None:
        yield route.answer, "serialization"
    if route.failure is not None:
        yield route.failure, "serialization"


def _operation(route: ApiRoute, refs: Refs, schemas: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": _operation_id(route),
        "summary": route.summary,
        "tags": [route.tag],
        "security": [{"bearer": []}],
    }
    if route.description:
        operation["description"] = route.description
    parameters = _path_parameters(route.path)
    if route.query is not None:
        parameters += _query_parameters(refs[(route.query, "validation")], schemas)
    if route.if_match:
        parameters.append(IF_MATCH)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(route.body, "validation")]}},
        }
    operation["responses"] = _responses(route, refs)
    return operation


def _operation_id(route: ApiRoute) -> str:
    words = re.findall(r"[A-Za-z0-9]+", _PARAMETER.sub(r"by \1", route.path))
    return "_".join([route.method.lower(), *words])


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAMETER.findall(path)
    ]


def _query_parameters(ref: dict[str, Any], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    model = schemas[ref["$ref"].rsplit("/", 1)[-1]]
    required = set(model.get("required", ()))
    parameters = []
    for name, schema in model.get("properties", {}).items():
        shown = _without_null(
            {k: v for k, v in schema.items() if k not in ("title", "description")}
        )
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": shown,
        }
        if "description" in schema:
            parameter["description"] = schema["description"]
        parameters.append(parameter)
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is left out rather than null: its schema drops the null branch."""
    branches = [b for b in schema.get("anyOf", ()) if b != {"type": "null"}]
    if "anyOf" not in schema or len(branches) == len(schema["anyOf"]):
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    if rest.get("default", 0) is None:
        del rest["default"]
    return {**branches[0], **rest} if len(branches) == 1 else {**rest, "anyOf": branches}


def _responses(route: ApiRoute, refs: Refs) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": HTTPStatus(route.status).phrase}
    if route.status != 204:
        answer["content"] = _answer_content(route, refs)
    if route.etag:
        answer["headers"] = {
            "ETag": {
                "description": "The configuration's version; send it as If-Match to write.",
                "required": True,
                "schema": {"type": "string"},
            }
        }
    responses: dict[str, Any] = {str(route.status): answer}
    for status, name in _SHARED_ERRORS.items():
        responses[str(status)] = {"$ref": f"#/components/responses/{name}"}
    shape = OriginalError if route.path.startswith("/v1/") else ErrorBody
    for status in route.errors:
        responses[str(status)] = _error_answer(status, shape, refs, route.failure)
    return responses


def _answer_content(route: ApiRoute, refs: Refs) -> dict[str, Any]:
    schema: dict[str, Any] = (
        refs[(route.answer, "serialization")] if route.answer is not None else {"type": "object"}
    )
    if route.stream:
        media: dict[str, Any] = {"schema": {"type": "string"}}
        if route.answer is not None:
            media["x-event-data"] = schema
        return {"text/event-stream": media}
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if route.may_stream:
        # Each event's data is JSON of its own kind (the route's description names them).
        content["text/event-stream"] = {"schema": {}}
    return content


def _error_answer(
    status: int, shape: type[BaseModel], refs: Refs, failure: type[BaseModel] | None = None
) -> dict[str, Any]:
    schema = refs[(shape, "serialization")]
    if failure is not None:
        schema = {"anyOf": [schema, refs[(failure, "serialization")]]}
    return {
        "description": HTTPStatus(status).phrase,
        "content": {"application/json": {"schema": schema}},
    }
