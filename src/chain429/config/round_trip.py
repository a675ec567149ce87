"""The YAML reader and writer of config edits: ruamel.yaml's round trip, set to write a file in
the style it was read in (its indentation, its quotes, its long lines unwrapped)."""

from __future__ import annotations

import io
import re
from typing import Any, Final

from ruamel.yaml import YAML

#: `key:` opening a nested block (an end-of-line comment may follow); not `key: value`
_OPENS_BLOCK: Final = re.compile(r"^(?:- +)?[^#'\"]*:\s*(?:#.*)?$")
#: (mapping indent, dash offset) of a file whose style cannot be read: the example config's
DEFAULT_STYLE: Final = (2, 2)


def round_trip_yaml(text: str) -> YAML:
    """A round-trip YAML reader and writer that writes in the style of `text`."""
    mapping, offset = indentation(text)
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


def dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def indentation(text: str) -> tuple[int, int]:
    """(how far a nested mapping is indented, how far a list's `-` is indented under its key),
    from the first of each in `text`."""
    mapping: int | None = None
    offset: int | None = None
    opener: int | None = None  # the indentation of the line above when it opens a block
    for line in text.splitlines():
        content = line.strip()
        if not content or content.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if opener is not None and content.startswith("-") and indent >= opener:
            offset = indent - opener if offset is None else offset
        elif opener is not None and indent > opener:
            mapping = indent - opener if mapping is None else mapping
        if mapping is not None and offset is not None:
            break
        opener = indent if _OPENS_BLOCK.match(content) else None
    return (
        DEFAULT_STYLE[0] if mapping is None else mapping,
        DEFAULT_STYLE[1] if offset is None else offset,
    )
