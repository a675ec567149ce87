"""The writer writes in the reader's style: the file's own indentation is read from it."""

from __future__ import annotations

import pytest

from chain429.config.example import example_config
from chain429.config.round_trip import (
    DEFAULT_STYLE,
    RoundTrip,
    dump,
    indentation,
    round_trip_yaml,
)
from chain429.errors import ConfigError

EXAMPLE_CONFIG = example_config("adm-made-up-admin-key-0001")


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


@pytest.mark.parametrize(
    "text",
    [
        "---\nversion: 1\nsettings:\n  port: 1\n",
        "# top\n\n---   # start\nversion: 1\nsettings:\n  port: 1\n",
        "%YAML 1.2\n---\nversion: 1\nsettings:\n  port: 1\n",
        "version: 1\nsettings:\n  port: 1\n...\n",
        "# top\r\nversion: 1  # c\r\n\r\n# mid\r\nsettings:\r\n  port: 1\r\n",
    ],
)
def test_markers_the_lines_before_them_and_line_breaks_are_kept(text: str) -> None:
    style = RoundTrip(text)
    data = style.load("f.yaml")
    assert style.dump(data) == text
    data["settings"]["port"] = 2
    assert style.dump(data) == text.replace("port: 1", "port: 2")


def test_errors_name_the_files_own_lines_after_a_header() -> None:
    with pytest.raises(ConfigError, match="f.yaml, line 5, column 1"):
        RoundTrip("# top\n---\nversion: 1\nsettings: [\n").load("f.yaml")
