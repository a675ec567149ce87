from __future__ import annotations

from chain429.providers.durations import parse_count
from chain429.providers.header_view import HeaderView


def test_names_are_case_insensitive_and_values_trimmed() -> None:
    view = HeaderView({"X-RateLimit-Limit": " 20 "})
    assert view["x-ratelimit-limit"] == "20"
    assert view["X-RATELIMIT-LIMIT"] == "20"
    assert "x-ratelimit-limit" in view
    assert list(view) == ["x-ratelimit-limit"]
    assert len(view) == 1


def test_unreadable_values_are_recorded_not_raised() -> None:
    view = HeaderView({"x-ratelimit-limit": "lots", "x-ratelimit-remaining": "3"})
    assert view.read("x-ratelimit-limit", parse_count) is None
    assert view.read("x-ratelimit-remaining", parse_count) == 3
    assert view.read("x-absent", parse_count) is None
    assert view.malformed == (("x-ratelimit-limit", "lots"),)


def test_unread_lists_limit_headers_nobody_parsed() -> None:
    view = HeaderView({"x-ratelimit-new-thing": "1", "x-ratelimit-limit": "2", "server": "x"})
    view.read("x-ratelimit-limit", parse_count)
    assert view.unread == (("x-ratelimit-new-thing", "1"),)


def test_text_is_printable_and_short() -> None:
    view = HeaderView({"x-ratelimit-type": "UserByModelByDay\x00" + "x" * 100})
    text = view.text("x-ratelimit-type")
    assert text is not None
    assert text.startswith("UserByModelByDay")
    assert "\x00" not in text
    assert len(text) <= 64
    assert view.text("missing") is None


def test_only_rate_limit_headers_are_kept() -> None:
    headers = {"Server": "x", "X-RateLimit-Limit": "1", "RateLimit": "r=1", "Retry-After-Ms": "5"}
    headers["x-tokenlimit-remaining"] = "3"
    assert set(HeaderView(headers)) == {
        "x-ratelimit-limit",
        "ratelimit",
        "retry-after-ms",
        "x-tokenlimit-remaining",
    }


def test_of_reuses_a_view() -> None:
    view = HeaderView({"retry-after": "1"})
    assert HeaderView.of(view) is view
    assert HeaderView.of({"Retry-After": "1"})["retry-after"] == "1"
