"""The writer writes in the reader's style: the file's own indentation is read from it."""

from __future__ import annotations

import pytest

from chain429.config.example import EXAMPLE_CONFIG
from chain429.config.round_trip import DEFAULT_STYLE, dump, indentation, round_trip_yaml


@pytest.mark.parametrize(
    ("text", "style"),
    [
        (EXAMPLE_CONFIG, (2, 2)),
        ("a:\n    b: 1\nc:\n- x\n", (4, 0)),
        ("a:   # note: this\n   b:\n      - 1\n", (3, 3)),
        ("a: {b: 1}\nc: [1]\n", DEFAULT_STYLE),
        ("# only: a comment\n", DEFAULT_STYLE),
    ],
)
def test_the_indentation_is_read_from_the_first_nested_mapping_and_list(
    text: str, style: tuple[int, int]
) -> None:
    assert indentation(text) == style


def test_long_lines_are_not_wrapped_and_quotes_are_kept() -> None:
    text = "a: '" + "x " * 100 + '\'\nb: "q"\nc: plain\n'
    yaml = round_trip_yaml(text)
    assert dump(yaml, yaml.load(text)) == text
