"""Comments and blank lines between items stay where a reader expects them: comment lines move
with the item below them, blank lines stay in place, what follows the last item stays last."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from chain429.config.comments import add_key, remove_key, replace_items
from chain429.config.round_trip import dump, round_trip_yaml

LIST = """\
items:
  - id: a   # first
    x: 1

  # about b
  - id: b
    x: 2

  - id: c
    x: 3
  # after the list
other: 1
"""


def load(text: str) -> tuple[Any, Any]:
    yaml = round_trip_yaml(text)
    return yaml, yaml.load(text)


def test_reordered_items_take_their_comments_and_leave_the_blank_lines() -> None:
    yaml, data = load(LIST)
    items = data["items"]
    replace_items(items, [(2, items[2]), (1, items[1]), (0, items[0])])
    assert dump(yaml, data) == (
        "items:\n"
        "  - id: c\n"
        "    x: 3\n"
        "\n"
        "  # about b\n"
        "  - id: b\n"
        "    x: 2\n"
        "\n"
        "  - id: a   # first\n"
        "    x: 1\n"
        "  # after the list\n"
        "other: 1\n"
    )


def test_removing_the_last_item_keeps_what_followed_it() -> None:
    yaml, data = load(LIST)
    items = data["items"]
    replace_items(items, [(0, items[0]), (1, items[1])])
    assert dump(yaml, data) == LIST.replace("\n  - id: c\n    x: 3\n", "")


def test_a_new_item_goes_last_with_the_blank_line_style_of_the_list() -> None:
    yaml, data = load(LIST)
    items = data["items"]
    new = CommentedMap(id="d", x=4)
    replace_items(items, [*enumerate(items), (None, new)])
    assert dump(yaml, data) == LIST.replace(
        "    x: 3\n  # after", "    x: 3\n\n  - id: d\n    x: 4\n  # after"
    )


def test_a_removed_key_takes_the_comment_above_it_and_leaves_the_rest() -> None:
    text = "a: 1\n\n# about b\nb: 2   # two\n# about c\nc: 3\n"
    yaml, data = load(text)
    remove_key(data, "b")
    assert dump(yaml, data) == "a: 1\n\n# about c\nc: 3\n"


def test_removing_the_last_key_keeps_the_lines_after_it() -> None:
    yaml, data = load("m:\n  a: 1\n  b: 2\n  # the end of m\n\nn: 1\n")
    remove_key(data["m"], "b")
    assert dump(yaml, data) == "m:\n  a: 1\n  # the end of m\n\nn: 1\n"


def test_an_added_key_goes_below_the_comments_that_ended_the_mapping() -> None:
    yaml, data = load("m:\n  a: 1\n  # b: 2\n\nn: 1\n")
    add_key(data["m"], "b", 3)
    assert dump(yaml, data) == "m:\n  a: 1\n  # b: 2\n  b: 3\n\nn: 1\n"
