"""The request parser against any body a client can send (issue 16): it returns a request whose
fields agree with the body, or refuses with a `BadRequest` that says what is wrong; it never
raises anything else, whatever the bytes or the JSON."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from chain429.proxy.parse import BadRequest, parse_request
from chain429.router.request import ClientRequest, Endpoint

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
#: The fields the parser reads, and one it only forwards.
FIELDS = st.sampled_from(
    [
        "model",
        "messages",
        "prompt",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
    ]
)
BODIES = st.dictionaries(FIELDS, JSON_VALUES, max_size=6)
ENDPOINTS = st.sampled_from(list(Endpoint))


def _parsed(raw: bytes, endpoint: Endpoint, require_model: bool) -> ClientRequest | BadRequest:
    try:
        return parse_request(raw, endpoint, now=0.0, require_model=require_model)
    except BadRequest as refused:
        return refused


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), ENDPOINTS, st.booleans())
def test_any_bytes_parse_or_are_refused_with_a_reason(
    raw: bytes, endpoint: Endpoint, require_model: bool
) -> None:
    result = _parsed(raw, endpoint, require_model)
    if isinstance(result, BadRequest):
        assert result.message
        assert result.param is None or isinstance(result.param, str)


@settings(max_examples=400, deadline=None)
@given(BODIES, ENDPOINTS, st.booleans())
def test_any_json_object_parses_into_what_it_says_or_is_refused(
    body: dict[str, Any], endpoint: Endpoint, require_model: bool
) -> None:
    result = _parsed(orjson.dumps(body), endpoint, require_model)
    if isinstance(result, BadRequest):
        assert result.message
        assert (
            result.param is None
            or result.param.split("[")[0] in body
            or result.param
            in (
                "messages",
                "prompt",
                "model",
            )
        )
        return
    assert result.body == body, "every field is forwarded as the client sent it"
    assert result.model == body.get("model")
    assert result.stream is body.get("stream", False)
    options = body.get("stream_options")
    assert result.wants_usage is (
        isinstance(options, dict) and options.get("include_usage") is True
    )
    if require_model:
        assert result.model
    if endpoint is Endpoint.CHAT:
        messages = body["messages"]
        assert messages and all(isinstance(m, dict) for m in messages)
    else:
        assert isinstance(body["prompt"], str | list)
    assert result.max_tokens is None or result.max_tokens >= 0
