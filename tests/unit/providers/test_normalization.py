from __future__ import annotations

import copy
from typing import Any

from chain429.providers.normalization import normalize_chunk, normalize_message


def _completion(**message: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}}],
        "usage": {"prompt_tokens": 3},
    }


def _chunk(**delta: Any) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}


def test_reasoning_content_becomes_missing_content() -> None:
    for empty in ({"content": None}, {"content": ""}, {}):
        response = _completion(**empty, reasoning_content="The answer is 42.")
        before = copy.deepcopy(response)
        normalized = normalize_message(response)
        message = normalized["choices"][0]["message"]
        assert message == {"role": "assistant", "content": "The answer is 42."}
        assert response == before
        assert normalized["usage"] is response["usage"]


def test_reasoning_field_is_read_too() -> None:
    message = normalize_message(_completion(content=None, reasoning="thinking"))
    assert message["choices"][0]["message"]["content"] == "thinking"
    assert "reasoning" not in message["choices"][0]["message"]


def test_a_duplicate_reasoning_field_goes_a_different_one_stays() -> None:
    same = normalize_message(_completion(reasoning_content="r", reasoning="r"))
    assert same["choices"][0]["message"] == {"role": "assistant", "content": "r"}
    different = normalize_message(_completion(reasoning_content="r", reasoning="other"))
    assert different["choices"][0]["message"]["reasoning"] == "other"


def test_real_content_is_never_touched() -> None:
    response = _completion(content="42", reasoning_content="thinking")
    assert normalize_message(response) is response


def test_responses_without_reasoning_are_returned_as_they_are() -> None:
    for obj in (_completion(content="hi"), {"choices": "odd"}, {}, {"choices": [None, 3]}):
        assert normalize_message(obj) is obj


def test_only_changed_choices_are_rebuilt() -> None:
    response = _completion(content=None, reasoning_content="r")
    response["choices"].append({"index": 1, "message": {"role": "assistant", "content": "x"}})
    normalized = normalize_message(response)
    assert normalized["choices"][1] is response["choices"][1]
    assert normalized["choices"][0]["message"]["content"] == "r"


def test_stream_deltas() -> None:
    chunk = _chunk(content=None, reasoning_content="step 1")
    before = copy.deepcopy(chunk)
    assert normalize_chunk(chunk)["choices"][0]["delta"] == {"content": "step 1"}
    assert chunk == before
    answer = _chunk(content="42")
    assert normalize_chunk(answer) is answer
    both = _chunk(content="4", reasoning="so")
    assert normalize_chunk(both) is both
    role_only = _chunk(role="assistant")
    assert normalize_chunk(role_only) is role_only


def test_usage_only_final_chunk() -> None:
    final = {"id": "c", "choices": [], "usage": {"total_tokens": 5}}
    assert normalize_chunk(final) is final
