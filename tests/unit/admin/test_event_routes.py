"""`?kinds=` of `GET /api/events`."""

from __future__ import annotations

import pytest

from chain429.admin.event_routes import parse_kinds
from chain429.admin.stats_params import ParamError
from chain429.event_hub import EventKind


@pytest.mark.parametrize("value", [None, "", " , "])
def test_no_kinds_means_every_kind(value: str | None):
    assert parse_kinds(value) == frozenset(EventKind)


def test_named_kinds():
    assert parse_kinds("request, limits") == {EventKind.REQUEST, EventKind.LIMITS}


def test_an_unknown_kind_names_the_parameter_and_the_kinds():
    with pytest.raises(ParamError) as raised:
        parse_kinds("request,hello")
    assert raised.value.param == "kinds"
    assert (
        str(raised.value) == "unknown event kind 'hello'; expected some of request, limits, config"
    )
