"""A chain's outlook from the status views: the first entry that can serve, else when the
soonest frees up; a set-aside key or an unknown reset frees up by no time of its own."""

from __future__ import annotations

from chain429.admin.chain_outlook import chain_outlooks
from chain429.limits.status import EntryView, WindowView
from tests.support.configs import build_config, entries

T0 = 1_800_000_000.0
CONFIG = build_config(
    [
        {"id": "a", "type": "groq", "apiKey": "sk-a-000000000000"},
        {"id": "b", "type": "groq", "apiKey": "sk-b-000000000000"},
    ],
    {"main": entries(("a", "m"), ("b", "m")), "solo": entries(("b", "m"))},
)


def window(remaining: int, reset_at: float | None) -> WindowView:
    return WindowView("requests", "minute", "model", 10, remaining, 0, reset_at, "header", T0, ())


def view(
    provider: str,
    status: str = "available",
    *,
    cooldown_until: float | None = None,
    disabled: str | None = None,
    windows: tuple[WindowView, ...] = (),
) -> EntryView:
    return EntryView(provider, "m", "…0000", status, cooldown_until, None, disabled, 0, windows)


def test_the_first_entry_that_can_serve_is_next_and_the_queue_is_shown():
    main, solo = chain_outlooks(
        CONFIG, [view("a", "exhausted", cooldown_until=T0 + 5), view("b", "tracking")], {"main": 2}
    )
    assert main == {
        "name": "main",
        "isDefault": True,
        "queued": 2,
        "next": {"provider": "b", "model": "m"},
        "freeAt": None,
    }
    assert solo["isDefault"] is False and solo["queued"] == 0


def test_none_free_frees_at_the_soonest_entry_each_waiting_for_its_last_limit():
    a = view("a", "exhausted", cooldown_until=T0 + 30)
    b = view("b", "exhausted", cooldown_until=T0 + 5, windows=(window(0, T0 + 8),))
    main, solo = chain_outlooks(CONFIG, [a, b], {})
    assert main["next"] is None and main["freeAt"] == round((T0 + 8) * 1000)
    assert solo["freeAt"] == round((T0 + 8) * 1000)


def test_a_set_aside_key_or_an_unknown_reset_frees_up_by_no_time_of_its_own():
    a = view("a", "exhausted", disabled="HTTP 401: key refused")
    b = view("b", "exhausted", windows=(window(0, None),))
    main, _ = chain_outlooks(CONFIG, [a, b], {})
    assert main["next"] is None and main["freeAt"] is None
