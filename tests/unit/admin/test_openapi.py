"""The OpenAPI document is built from `ApiRoute`s and their models: bodies, answers, query and
path parameters, errors, the bearer scheme, `ETag` headers and event streams."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate
from pydantic import BaseModel, Field

from chain429.admin.api_models import ChainBody, ChainView, ErrorBody, OriginalError
from chain429.admin.api_route import ApiRoute
from chain429.admin.openapi import REF_TEMPLATE, openapi_document


async def handler(_request: web.Request) -> web.Response:
    return web.Response()


class Paging(BaseModel):
    limit: int = Field(default=10, ge=1, le=100, description="How many.")
    cursor: str | None = None
    kind: str = Field(alias="kindOf")


class Event(BaseModel):
    seq: int


ROUTES = [
    ApiRoute(
        "PUT",
        "/api/chains/{name}",
        handler,
        "Replace a chain",
        "chains",
        body=ChainBody,
        answer=ChainView,
        errors=(404, 412, 422),
        etag=True,
    ),
    ApiRoute("GET", "/api/things", handler, "List things", "things", query=Paging),
    ApiRoute("DELETE", "/api/things/{id}", handler, "Delete", "things", status=204),
    ApiRoute("GET", "/api/events", handler, "Events", "events", answer=Event, stream=True),
    ApiRoute("GET", "/v1/models/{model_id:.+}", handler, "Regex", "things"),
    ApiRoute("DELETE", "/v1/admin/chains/{name}", handler, "Compat", "compat", errors=(404,)),
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document(ROUTES)


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def test_the_document_is_valid_openapi_3_1(document) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_bodies_and_answers_point_at_the_models_schemas(document) -> None:
    put = document["paths"]["/api/chains/{name}"]["put"]
    body = put["requestBody"]["content"]["application/json"]["schema"]
    assert put["requestBody"]["required"] is True
    answer = put["responses"]["200"]["content"]["application/json"]["schema"]
    schemas = document["components"]["schemas"]
    assert schemas[body["$ref"].rsplit("/", 1)[1]]["required"] == ["entries"]
    assert schemas[answer["$ref"].rsplit("/", 1)[1]]["properties"]["isDefault"]["type"] == "boolean"
    assert "ChainEntry" in schemas, "nested models land in components too"
    expected = ErrorBody.model_json_schema(by_alias=True, ref_template=REF_TEMPLATE)
    assert schemas["ErrorBody"] == {k: v for k, v in expected.items() if k != "$defs"}


def test_every_operation_asks_for_the_bearer_key_and_documents_refusals(document) -> None:
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    for methods in document["paths"].values():
        for operation in methods.values():
            assert operation["security"] == [{"bearer": []}]
            assert operation["responses"]["401"] == {"$ref": "#/components/responses/Unauthorized"}
            assert operation["responses"]["403"] == {"$ref": "#/components/responses/Forbidden"}


def test_errors_are_in_the_openai_shape_except_on_the_originals_routes(document) -> None:
    put = document["paths"]["/api/chains/{name}"]["put"]
    for status in ("404", "412", "422"):
        assert put["responses"][status]["content"]["application/json"]["schema"] == ref("ErrorBody")
    compat = document["paths"]["/v1/admin/chains/{name}"]["delete"]["responses"]["404"]
    assert compat["content"]["application/json"]["schema"] == ref("OriginalError")
    assert document["components"]["schemas"]["OriginalError"]["properties"] == {
        "error": OriginalError.model_json_schema()["properties"]["error"]
    }


def test_parameters_come_from_the_path_and_the_query_model(document) -> None:
    put = document["paths"]["/api/chains/{name}"]["put"]
    assert put["parameters"] == [
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    query = {p["name"]: p for p in document["paths"]["/api/things"]["get"]["parameters"]}
    assert query["limit"] == {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
        "description": "How many.",
    }
    assert query["cursor"]["schema"] == {"type": "string"}, "absent, never null"
    assert query["kindOf"]["required"] is True


def test_a_path_pattern_is_left_out_of_the_path(document) -> None:
    assert "/v1/models/{model_id}" in document["paths"]


def test_etag_stream_and_empty_answers_are_described(document) -> None:
    put = document["paths"]["/api/chains/{name}"]["put"]["responses"]["200"]
    assert put["headers"]["ETag"]["required"] is True
    events = document["paths"]["/api/events"]["get"]["responses"]["200"]["content"]
    assert events["text/event-stream"]["x-event-data"] == ref("Event")
    deleted = document["paths"]["/api/things/{id}"]["delete"]["responses"]["204"]
    assert "content" not in deleted


def test_operation_ids_are_unique_and_tags_listed_once(document) -> None:
    ids = [op["operationId"] for m in document["paths"].values() for op in m.values()]
    assert len(ids) == len(set(ids))
    assert "put_api_chains_by_name" in ids
    assert [t["name"] for t in document["tags"]] == ["chains", "things", "events", "compat"]
