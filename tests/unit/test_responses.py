"""The web layer's OpenAI-shaped answers: `chain429.responses` wraps the bodies of
`openai_errors` and answers aiohttp's own HTTP errors in the same shape."""

from __future__ import annotations

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from structlog.testing import capture_logs

from chain429.openai_errors import ErrorType
from chain429.responses import error_response, status_error


def test_the_answer_carries_status_headers_and_body() -> None:
    response = error_response(
        429, "slow down", ErrorType.RATE_LIMIT, "rate_limit_exceeded", headers={"Retry-After": "3"}
    )
    assert (response.status, response.content_type) == (429, "application/json")
    assert response.headers["Retry-After"] == "3"
    assert isinstance(response.body, bytes)
    assert orjson.loads(response.body)["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("exc", "code", "words"),
    [
        (web.HTTPNotFound(), "unknown_url", "Unknown request URL: POST /v1/nothing."),
        (web.HTTPMethodNotAllowed("POST", ["GET"]), "method_not_allowed", "is not allowed"),
        (web.HTTPRequestEntityTooLarge(10, 20), "request_too_large", "settings.maxBodyBytes"),
        (web.HTTPUnsupportedMediaType(), None, "Unsupported Media Type"),
    ],
)
def test_a_client_error_of_aiohttp_answers_in_openai_shape_and_is_logged(
    exc: web.HTTPException, code: str | None, words: str
) -> None:
    request = make_mocked_request("POST", "/v1/nothing")
    with capture_logs() as logs:
        response = status_error(exc, request)
    assert response.status == exc.status
    assert isinstance(response.body, bytes)
    error = orjson.loads(response.body)["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", code)
    assert words in error["message"]
    [line] = logs
    assert (line["event"], line["status"], line["path"]) == (
        "request refused",
        exc.status,
        "/v1/nothing",
    )


def test_a_server_error_of_aiohttp_is_a_server_error_and_no_refusal() -> None:
    request = make_mocked_request("GET", "/v1/models")
    with capture_logs() as logs:
        response = status_error(web.HTTPServiceUnavailable(), request)
    assert response.status == 503
    assert isinstance(response.body, bytes)
    assert orjson.loads(response.body)["error"]["type"] == "server_error"
    assert logs == []


def test_a_405_says_which_methods_the_route_allows() -> None:
    request = make_mocked_request("TRACE", "/api/config")
    response = status_error(web.HTTPMethodNotAllowed("TRACE", ["GET", "HEAD"]), request)
    assert response.status == 405
    assert set(response.headers["Allow"].split(",")) == {"GET", "HEAD"}
