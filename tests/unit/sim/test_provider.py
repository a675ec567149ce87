from __future__ import annotations

from typing import Any

import pytest

from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.provider import Action, SimProvider, key_fingerprint
from chain429.sim.replies import Endpoint
from tests.support.clock import FakeClock

CHAT: dict[str, Any] = {"model": "m1", "messages": [{"role": "user", "content": "hello world!"}]}


def provider(clock: FakeClock | None = None, **fields: Any) -> SimProvider:
    return SimProvider(SimProviderConfig(name="p", **fields), clock or FakeClock())


def test_answer_commits_usage_and_reports_remaining_after_the_request() -> None:
    sim = provider(dialect=Dialect.OPENAI, requests_per_window=2)
    decision = sim.decide(Endpoint.CHAT, CHAT, None)
    assert decision.action is Action.ANSWER
    assert decision.headers["x-ratelimit-remaining-requests"] == "1"
    assert decision.reply is not None and decision.reply.prompt_tokens == 3
    stats = sim.stats()
    assert stats["by_status"] == {"200": 1}
    assert stats["window"]["requests"]["remaining"] == 1


def test_third_request_in_the_window_is_a_429_until_the_clock_moves() -> None:
    clock = FakeClock()
    sim = provider(clock, requests_per_window=2, window_seconds=10)
    for _ in range(2):
        assert sim.decide(Endpoint.CHAT, CHAT, None).action is Action.ANSWER
    clock.advance(4)
    refused = sim.decide(Endpoint.CHAT, CHAT, None)
    assert (refused.action, refused.status) == (Action.ERROR, 429)
    assert refused.headers["retry-after"] == "6"
    clock.advance(6)
    assert sim.decide(Endpoint.CHAT, CHAT, None).action is Action.ANSWER
    assert sim.stats()["rate_limited"] == 1


@pytest.mark.parametrize(
    "body",
    [None, [], {"messages": [{"content": "x"}]}, {"model": "m1"}, {"model": "m1", "messages": []}],
)
def test_malformed_requests_get_400(body: Any) -> None:
    decision = provider().decide(Endpoint.CHAT, body, None)
    assert (decision.action, decision.status) == (Action.ERROR, 400)


def test_legacy_completion_needs_a_prompt() -> None:
    sim = provider()
    assert sim.decide(Endpoint.COMPLETIONS, {"model": "m"}, None).status == 400
    assert sim.decide(Endpoint.COMPLETIONS, {"model": "m", "prompt": "x"}, None).status == 200


@pytest.mark.parametrize(
    ("fields", "action", "status"),
    [
        ({"status_override": 402}, Action.ERROR, 402),
        ({"status_override": 401}, Action.ERROR, 401),
        ({"api_key": "right"}, Action.ERROR, 401),
        ({"reject_unknown_models": True}, Action.ERROR, 404),
        ({"error_rate": 1.0, "error_status": 503}, Action.ERROR, 503),
        ({"hang_rate": 1.0}, Action.HANG, 200),
        ({"garbage_rate": 1.0}, Action.GARBAGE, 200),
        ({"inband_error_rate": 1.0}, Action.INBAND_ERROR, 200),
        ({"drop_rate": 1.0}, Action.DROP, 200),
    ],
)
def test_failure_modes(fields: dict[str, Any], action: Action, status: int) -> None:
    sim = provider(requests_per_window=5, **fields)
    decision = sim.decide(Endpoint.CHAT, CHAT, "Bearer wrong")
    assert (decision.action, decision.status) == (action, status)
    assert sim.stats()["window"]["requests"]["remaining"] == 5, "failures consume nothing"


def test_a_dropped_stream_is_answered_then_cut() -> None:
    sim = provider(drop_rate=1.0, drop_after_chunks=3)
    decision = sim.decide(Endpoint.CHAT, {**CHAT, "stream": True}, None)
    assert (decision.action, decision.drop_after) == (Action.ANSWER, 3)
    assert sim.stats()["dropped"] == 1


def test_the_right_key_is_accepted() -> None:
    sim = provider(api_key="right")
    assert sim.decide(Endpoint.CHAT, CHAT, "Bearer right").action is Action.ANSWER


def test_failure_draws_are_reproducible_from_the_seed() -> None:
    def run() -> list[Action]:
        sim = provider(error_rate=0.5, seed=7)
        return [sim.decide(Endpoint.CHAT, CHAT, None).action for _ in range(40)]

    first = run()
    assert first == run()
    assert {Action.ANSWER, Action.ERROR} == set(first)


def test_configure_changes_behaviour_and_resets() -> None:
    sim = provider(requests_per_window=1)
    sim.decide(Endpoint.CHAT, CHAT, None)
    sim.configure({"statusOverride": 402})
    assert sim.decide(Endpoint.CHAT, CHAT, None).status == 402
    sim.configure({"status_override": None, "reset_windows": True})
    assert sim.decide(Endpoint.CHAT, CHAT, None).status == 200
    sim.configure({"reset": True})
    assert sim.stats()["requests"] == 0
    assert sim.last_request() is None


def test_last_request_keeps_the_body_and_hides_the_key() -> None:
    sim = provider()
    headers = {"Authorization": "Bearer sk-secret", "X-Custom": "1"}
    sim.record_request("chat", "/p/v1/chat/completions", headers, CHAT)
    last = sim.last_request()
    assert last is not None
    assert last["body"] == CHAT
    assert last["headers"] == {"x-custom": "1"}
    assert last["key_fingerprint"] == key_fingerprint("sk-secret")
    assert "sk-secret" not in repr(last)


def test_the_key_endpoint_states_the_window_limit_and_the_free_tier() -> None:
    sim = provider(requests_per_window=10, window_seconds=10, api_key="sk-or-right-key")
    status, body = sim.key_info("Bearer sk-or-right-key")
    assert status == 200
    assert body == {
        "data": {
            "label": f"sk-…{key_fingerprint('sk-or-right-key')[:4]}",
            "limit": None,
            "limit_remaining": None,
            "usage": 0.0,
            "is_free_tier": True,
            "rate_limit": {"requests": 10, "interval": "10s"},
        }
    }
    assert "right" not in str(body)
    assert sim.stats()["key_requests"] == 1
    assert sim.stats()["requests"] == 0, "not a completion"


def test_an_unlimited_key_with_credits_says_so() -> None:
    status, body = provider(free_tier=False, window_seconds=60).key_info(None)
    assert status == 200
    assert body["data"]["rate_limit"] == {"requests": -1, "interval": "60s"}
    assert (body["data"]["is_free_tier"], body["data"]["label"]) == (False, None)


@pytest.mark.parametrize(
    ("fields", "status"), [({"api_key": "right"}, 401), ({"status_override": 503}, 503)]
)
def test_the_key_endpoint_refuses_like_the_completions(fields: dict[str, Any], status: int) -> None:
    sim = provider(**fields)
    answer, body = sim.key_info("Bearer wrong")
    assert answer == status and "error" in body
    assert sim.stats()["by_status"] == {str(status): 1}
