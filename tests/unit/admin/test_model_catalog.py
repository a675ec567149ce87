"""The model catalog: one fetch per provider for its time to live, shared by concurrent
callers, never kept when it failed, bounded in time, and its errors free of keys."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import orjson
import pytest

from chain429.admin.model_catalog import (
    MAX_BODY_BYTES,
    ModelCatalog,
    ModelsError,
    OfferedModel,
    parse_model_list,
)
from chain429.config.schema import ProviderConfig, Settings
from chain429.errors import UpstreamConnectError, UpstreamTimeoutError
from chain429.redaction import Redactor
from chain429.router.plan import ProviderPlan, plan_for
from chain429.tasks import create_task
from tests.support.clock import FakeClock
from tests.support.polling import eventually

SETTINGS = Settings.model_validate({"apiKeys": ["client-key-1234"], "defaultChain": "c"})
KEY = "sk-catalog-key-0123456789abcdef"
LIST = orjson.dumps({"object": "list", "data": [{"id": "m1", "owned_by": "x", "created": 7}]})


def plan(key: str = KEY, base_url: str = "http://127.0.0.1:9/v1", timeout: int | None = None):
    provider = ProviderConfig.model_validate(
        {"id": "p", "type": "generic-openai", "apiKey": key, "baseUrl": base_url}
        | ({"timeout": timeout} if timeout else {})
    )
    return plan_for(provider, SETTINGS)


class FakeFetch:
    """Answers each GET from `answers` in turn (the last repeats), optionally held by `gate`."""

    def __init__(self, *answers: tuple[int, bytes] | Exception, gate=None) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, dict[str, str], float, int]] = []
        self.gate = gate

    async def __call__(
        self, url: str, headers: Mapping[str, str], timeout_s: float, limit: int
    ) -> tuple[int, bytes]:
        self.calls.append((url, dict(headers), timeout_s, limit))
        if self.gate is not None:
            await self.gate.wait()
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


REDACTOR = Redactor([KEY])


async def models(catalog: ModelCatalog, provider: ProviderPlan | None = None):
    return await catalog.models(provider or plan(), REDACTOR)


async def test_the_list_comes_from_the_providers_models_with_its_first_key(clock):
    fetch = FakeFetch((200, LIST))
    catalog = ModelCatalog(clock, fetch)

    found = await models(catalog)

    assert found.provider == "p"
    assert found.models == (OfferedModel("m1", "x", 7),)
    assert found.fetched_at == clock.now()
    ((url, headers, timeout_s, limit),) = fetch.calls
    assert url == "http://127.0.0.1:9/v1/models"
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert (timeout_s, limit) == (5.0, MAX_BODY_BYTES)


async def test_a_list_is_kept_for_its_time_to_live(clock):
    fetch = FakeFetch((200, LIST))
    catalog = ModelCatalog(clock, fetch, ttl_s=300)

    first = await models(catalog)
    clock.advance(299.9)
    assert await models(catalog) is first
    clock.advance(0.1)
    assert await models(catalog) is not first
    assert len(fetch.calls) == 2


async def test_a_changed_key_or_base_url_fetches_anew(clock):
    fetch = FakeFetch((200, LIST))
    catalog = ModelCatalog(clock, fetch)

    await models(catalog)
    await models(catalog, plan(key="sk-another-key-9876543210fedcba"))
    await models(catalog, plan(base_url="http://127.0.0.1:10/v1"))
    await models(catalog)

    assert len(fetch.calls) == 3


async def test_concurrent_callers_share_one_fetch_and_one_leaving_does_not_cancel_it(clock):
    gate = asyncio.Event()
    fetch = FakeFetch((200, LIST), gate=gate)
    catalog = ModelCatalog(clock, fetch)
    callers = [create_task(models(catalog), name=f"caller-{i}") for i in range(3)]
    await eventually(lambda: fetch.calls, what="the fetch under way")

    callers[0].cancel()
    gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)

    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1] is results[2]
    assert len(fetch.calls) == 1


async def test_the_timeout_is_the_providers_when_shorter(clock):
    fetch = FakeFetch((200, LIST))
    catalog = ModelCatalog(clock, fetch, timeout_s=5.0)

    await models(catalog, plan(timeout=250))

    assert fetch.calls[0][2] == 0.25


async def test_a_fetch_that_never_answers_ends_at_the_timeout(clock):
    fetch = FakeFetch((200, LIST), gate=asyncio.Event())  # the gate never opens
    catalog = ModelCatalog(clock, fetch, timeout_s=0.01)

    with pytest.raises(ModelsError) as raised:
        await models(catalog)

    assert (raised.value.status, raised.value.code) == (504, "upstream_timeout")
    assert raised.value.message == "Provider 'p' did not answer GET /models within 0.01s."


@pytest.mark.parametrize(
    ("answer", "status", "code", "message"),
    [
        (
            (401, orjson.dumps({"error": {"message": f"Invalid key {KEY}"}})),
            502,
            "upstream_error",
            "Provider 'p' answered GET /models with HTTP 401: Invalid key [redacted]",
        ),
        (
            (404, b""),
            502,
            "upstream_error",
            "Provider 'p' answered GET /models with HTTP 404",
        ),
        (
            (200, b"<html>hello</html>"),
            502,
            "upstream_bad_response",
            "Provider 'p' answered GET /models with something that is not a model list.",
        ),
        (
            UpstreamConnectError("cannot connect to upstream (Connection refused)"),
            502,
            "upstream_error",
            "Provider 'p': GET /models failed: cannot connect to upstream (Connection refused).",
        ),
        (
            UpstreamTimeoutError("upstream did not answer in time"),
            504,
            "upstream_timeout",
            "Provider 'p' did not answer GET /models within 5s.",
        ),
    ],
    ids=["401", "404", "not-a-list", "refused", "client-timeout"],
)
async def test_upstream_errors_are_reported_without_keys(clock, answer, status, code, message):
    catalog = ModelCatalog(clock, FakeFetch(answer))

    with pytest.raises(ModelsError) as raised:
        await models(catalog)

    assert (raised.value.status, raised.value.code, raised.value.message) == (
        status,
        code,
        message,
    )


async def test_a_failed_fetch_is_not_kept(clock):
    fetch = FakeFetch((500, b"{}"), (200, LIST))
    catalog = ModelCatalog(clock, fetch)

    with pytest.raises(ModelsError):
        await models(catalog)
    found = await models(catalog)

    assert found.models[0].id == "m1"
    assert len(fetch.calls) == 2


async def test_close_cancels_a_fetch_under_way(clock):
    fetch = FakeFetch((200, LIST), gate=asyncio.Event())
    catalog = ModelCatalog(clock, fetch)
    caller = create_task(models(catalog), name="caller")
    await eventually(lambda: fetch.calls, what="the fetch under way")

    await catalog.close()

    with pytest.raises(asyncio.CancelledError):
        await caller


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"data": [{"id": "a"}, {"id": "b", "owned_by": "o", "created": 3}]}', ("a", "b")),
        (b'[{"id": "bare"}]', ("bare",)),
        (b'{"data": [{"id": 5}, "x", {"name": "no id"}, {"id": "kept"}]}', ("kept",)),
        (b'{"data": []}', ()),
        (b'{"models": []}', None),
        (b'"text"', None),
        (b"not json", None),
    ],
)
def test_model_lists_in_the_shapes_servers_send(body, expected):
    found = parse_model_list(body)
    assert (None if found is None else tuple(m.id for m in found)) == expected


def test_owner_and_creation_time_are_kept_only_when_well_typed():
    (model,) = parse_model_list(b'{"data": [{"id": "a", "owned_by": 1, "created": true}]}') or ()
    assert model == OfferedModel("a", None, None)
