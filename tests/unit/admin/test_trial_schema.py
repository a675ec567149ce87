"""The test routes' bodies and answers: which target a body names, and the answers built from
probes, in both shapes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chain429.admin.probe import EntryProbe, ProbeStatus, ProbeTokens
from chain429.admin.trial_schema import (
    ChainProbeBody,
    PromptTestBody,
    chain_probe_answer,
    original_probe_answer,
)
from chain429.limits.tracker import SkipReason
from chain429.outcome import Outcome

NOW = 1_800_000_000.0
SERVED = EntryProbe(
    0,
    "a",
    "m",
    ProbeStatus.OK,
    key_label="…abcd",
    latency_ms=12.3456,
    http_status=200,
    outcome=Outcome.SERVED,
    tokens=ProbeTokens(1, 2, 3),
    response="Hi",
    raw={"choices": []},
)
FAILED = EntryProbe(
    1,
    "b",
    "m",
    ProbeStatus.ERROR,
    key_label="…efgh",
    latency_ms=4.0,
    http_status=500,
    outcome=Outcome.SERVER_ERROR,
    error="HTTP 500: down",
    raw={"message": "down", "code": None},
)
SKIPPED = EntryProbe(
    2,
    "c",
    "m",
    ProbeStatus.SKIPPED,
    outcome=Outcome.SKIPPED,
    skip_reason=SkipReason.COOLING_DOWN,
    reason="HTTP 429: slow down",
    available_at=NOW + 61.5,
)


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({}, (None, None, None)),
        ({"chain": "fast"}, ("fast", None, None)),
        ({"entry": "groq/llama/3.1"}, (None, "groq", "llama/3.1")),
        ({"provider": "groq", "model": "llama"}, (None, "groq", "llama")),
    ],
)
def test_the_target_a_body_names(body, target):
    assert PromptTestBody.model_validate(body).target() == target


def test_the_prompt_becomes_one_user_message_and_messages_pass_as_given():
    assert PromptTestBody().chat_messages() == [
        {"role": "user", "content": "Say hello in one word."}
    ]
    assert PromptTestBody(prompt="Yo").chat_messages() == [{"role": "user", "content": "Yo"}]
    given = [{"role": "tool", "content": "42", "tool_call_id": "c1"}]
    assert PromptTestBody.model_validate({"messages": given}).chat_messages() == given


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "p"},
        {"model": "m"},
        {"chain": "c", "provider": "p", "model": "m"},
        {"entry": "p/m", "chain": "c"},
        {"prompt": "x", "messages": [{"role": "user", "content": "y"}]},
        {"max_tokens": 5, "maxTokens": 0},
        {"unknown": 1},
    ],
)
def test_bodies_that_name_too_much_or_too_little_are_refused(body):
    with pytest.raises(ValidationError):
        PromptTestBody.model_validate(body)


def test_a_probe_body_defaults_to_the_originals_prompt_and_tokens():
    assert ChainProbeBody().model_dump() == {
        "prompt": "Say hello in one word.",
        "max_tokens": 50,
        "force": False,
    }


def test_the_probe_answer_counts_and_says_when_a_skipped_entry_frees_up():
    answer = chain_probe_answer("c", [SERVED, FAILED, SKIPPED], NOW).model_dump(by_alias=True)

    assert answer["summary"] == {"total": 3, "ok": 1, "failed": 1, "skipped": 1}
    served, failed, skipped = answer["results"]
    assert served["latencyMs"] == 12.346 and served["tokens"] == {
        "prompt": 1,
        "completion": 2,
        "total": 3,
    }
    assert failed["error"] == "HTTP 500: down" and failed["tokens"] is None
    assert skipped["availableAt"] == "2027-01-15T08:01:01.500Z"
    assert skipped["availableInMs"] == 61_500
    assert (skipped["skipReason"], skipped["status"]) == ("cooling_down", "skipped")


def test_a_time_already_past_is_zero_ms_away():
    answer = chain_probe_answer("c", [SKIPPED], NOW + 100).model_dump(by_alias=True)
    assert answer["results"][0]["availableInMs"] == 0


def test_the_original_shape_leaves_out_what_a_result_lacks():
    assert original_probe_answer("c", [SERVED, FAILED, SKIPPED]) == {
        "chain": "c",
        "results": [
            {
                "provider": "a",
                "model": "m",
                "status": "ok",
                "latencyMs": 12,
                "response": "Hi",
                "tokens": {"prompt": 1, "completion": 2, "total": 3},
                "raw": {"choices": []},
            },
            {
                "provider": "b",
                "model": "m",
                "status": "error",
                "latencyMs": 4,
                "error": "HTTP 500: down",
                "raw": {"message": "down", "code": None},
            },
            {
                "provider": "c",
                "model": "m",
                "status": "error",
                "latencyMs": 0,
                "error": "HTTP 429: slow down",
            },
        ],
        "summary": {"total": 3, "ok": 1, "failed": 2},
    }
