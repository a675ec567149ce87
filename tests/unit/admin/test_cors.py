"""CORS: closed unless origins are listed; a listed origin's preflight and answers."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from chain429.admin.cors import ALLOW_HEADERS, cors_headers, preflight_answer

LISTED = "http://localhost:5173"


def listed(origin: str) -> bool:
    return origin == LISTED


def test_a_preflight_from_a_listed_origin_gets_a_204_with_what_it_may_send() -> None:
    request = make_mocked_request(
        "OPTIONS",
        "/api/providers/p",
        headers={"Origin": LISTED, "Access-Control-Request-Method": "PUT"},
    )
    answer = preflight_answer(request, listed)
    assert answer is not None and answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == LISTED
    assert "PUT" in answer.headers["Access-Control-Allow-Methods"]
    assert ALLOW_HEADERS == "Authorization, Content-Type, If-Match"
    assert answer.headers["Access-Control-Allow-Headers"] == ALLOW_HEADERS


def test_no_preflight_answer_for_other_origins_or_other_requests() -> None:
    def ask(method: str, headers: dict[str, str]) -> web.Response | None:
        return preflight_answer(make_mocked_request(method, "/api/x", headers=headers), listed)

    assert (
        ask("OPTIONS", {"Origin": "http://other", "Access-Control-Request-Method": "GET"}) is None
    )
    assert ask("OPTIONS", {"Access-Control-Request-Method": "GET"}) is None
    assert ask("OPTIONS", {"Origin": LISTED}) is None, "not a preflight: no request method"
    assert ask("GET", {"Origin": LISTED, "Access-Control-Request-Method": "GET"}) is None


async def test_answers_to_a_listed_origin_are_marked_and_expose_the_etag() -> None:
    mark = cors_headers(listed)
    response = web.Response(headers={"Vary": "Accept-Encoding"})
    await mark(make_mocked_request("GET", "/api/config", headers={"Origin": LISTED}), response)
    assert response.headers["Access-Control-Allow-Origin"] == LISTED
    assert "ETag" in response.headers["Access-Control-Expose-Headers"].split(", ")
    assert response.headers.getall("Vary") == ["Accept-Encoding", "Origin"]


async def test_answers_to_other_origins_carry_no_cors_header() -> None:
    mark = cors_headers(listed)
    for headers in ({"Origin": "http://other"}, {}):
        response = web.Response()
        await mark(make_mocked_request("GET", "/api/config", headers=headers), response)
        assert not [h for h in response.headers if h.startswith("Access-Control")]
