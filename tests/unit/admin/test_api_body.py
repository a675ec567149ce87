"""A management API body is read into its model, or refused with the path of the field at
fault: 400 when it is not JSON, 422 when it does not fit."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chain429.admin.api_body import read_body
from chain429.admin.route_error import RouteError


class Item(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    max_tokens: int = Field(default=1, ge=1)


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    items: list[Item] = []


class Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read(self) -> bytes:
        return self.data


async def refusal(data: bytes) -> RouteError:
    with pytest.raises(RouteError) as raised:
        await read_body(Raw(data), Body)  # type: ignore[arg-type]  # only read() is used
    return raised.value


async def test_a_valid_body_is_read():
    body = await read_body(Raw(b'{"items": [{"maxTokens": 3}]}'), Body)  # type: ignore[arg-type]
    assert body.items[0].max_tokens == 3


async def test_an_empty_body_is_the_defaults_only_when_optional():
    assert await read_body(Raw(b" "), Body, optional=True) == Body()  # type: ignore[arg-type]
    refused = await refusal(b"")
    assert (refused.status, refused.code) == (400, "invalid_json")


async def test_a_body_that_is_not_json_is_a_400():
    refused = await refusal(b"{nope")
    assert (refused.status, refused.code, refused.param) == (400, "invalid_json", None)
    assert refused.message.startswith("The request body is not valid JSON")


async def test_a_misfit_names_the_camel_case_path_of_each_problem():
    refused = await refusal(b'{"items": [{"maxTokens": 1}, {"maxTokens": 0, "x": 1}]}')

    assert (refused.status, refused.code, refused.param) == (
        422,
        "invalid_body",
        "items[1].maxTokens",
    )
    assert "items[1].maxTokens: Input should be greater than or equal to 1" in refused.message
    assert "items[1].x: Extra inputs are not permitted" in refused.message


async def test_a_misfit_of_the_whole_body_names_no_field():
    refused = await refusal(b"[1]")
    assert (refused.status, refused.param) == (422, None)
    assert refused.answer().status == 422
    assert refused.original_answer().body == b'{"error":"' + refused.message.encode() + b'"}'
