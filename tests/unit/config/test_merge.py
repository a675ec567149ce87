"""Plain data over round-trip nodes: equal values keep the file's node (its quotes and
`${ENV}` references), mappings change in place, sequences reuse the items they hold."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from chain429.config.merge import merged, node, plain, same
from chain429.config.round_trip import dump, round_trip_yaml

VALUES = {"${PORT}": "3429", "${FLAG}": "true", "${NAME}": "groq"}


def expand(text: str) -> str | None:
    return VALUES.get(text)


def load(text: str) -> tuple[Any, Any]:
    yaml = round_trip_yaml(text)
    return yaml, yaml.load(text)


def test_a_reference_means_its_value_whatever_the_type() -> None:
    assert same("${PORT}", 3429, expand) and same("${PORT}", "3429", expand)
    assert same("${FLAG}", True, expand) and not same("${FLAG}", False, expand)
    assert not same("${UNSET}", "", expand)


def test_a_boolean_is_never_a_number_nor_a_string_a_number() -> None:
    assert not same(1, True, expand) and not same(True, 1, expand)
    assert not same("1", 1, expand) and not same(1, "1", expand)
    assert same([1, {"a": True}], [1, {"a": True}], expand)
    assert not same([1], [1, 2], expand) and not same({"a": 1}, {"b": 1}, expand)


def test_a_changed_string_keeps_its_quotes() -> None:
    yaml, data = load("a: 'single'\nb: \"double\"\nc: 1\n")
    for key, value in {"a": "one", "b": "two", "c": "3"}.items():
        data[key] = merged(data[key], value, expand)
    assert dump(yaml, data) == "a: 'one'\nb: \"two\"\nc: '3'\n"


def test_equal_items_are_reused_wherever_they_move() -> None:
    _, data = load("l:\n  - {p: a}\n  - {p: b}\n")
    first, second = data["l"]
    result = merged(data["l"], [{"p": "b"}, {"p": "a"}, {"p": "${NAME}"}], expand)
    assert result is data["l"]
    assert result[0] is second and result[1] is first
    assert isinstance(result[2], CommentedMap) and result[2].fa.flow_style()


def test_a_changed_mapping_item_is_edited_at_its_place() -> None:
    _, data = load("l:\n  - p: a   # kept\n    m: 1\n")
    item = data["l"][0]
    merged(data["l"], [{"p": "a", "m": 2}], expand)
    assert data["l"][0] is item and item["m"] == 2


def test_node_and_plain_convert_both_ways() -> None:
    value = {"a": [1, 2.5, True, None, "s"], "b": {"c": "d"}}
    assert plain(node(value)) == value
    _, data = load("a: [1, 2.5, true, 'q']\n")
    assert plain(data) == {"a": [1, 2.5, True, "q"]}
    assert type(plain(data)["a"][3]) is str
