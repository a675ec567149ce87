"""The YAML reader and writer of config edits: ruamel.yaml's round trip, set to write a file in
the style it was read in: its indentation, quotes, line breaks, long lines (unwrapped), and the
lines before a `---` start marker (which ruamel.yaml would drop), kept as they were."""

from __future__ import annotations

import io
import re
from typing import Any, Final

from ruamel.yaml import YAML

from chain429.config.load import load_yaml

#: `key:` opening a nested block (an end-of-line comment may follow); not `key: value`
_OPENS_BLOCK: Final = re.compile(r"^(?:- +)?[^#'\"]*:\s*(?:#.*)?$")
#: Comments, blank lines and directives up to a `---` line that starts the document.
_HEADER: Final = re.compile(r"\A\ufeff?(?:[ \t]*(?:#.*)?\n|%.*\n)*---[ \t]*(?:#.*)?\n")
#: (mapping indent, dash offset) of a file whose style cannot be read: the example config's
DEFAULT_STYLE: Final = (2, 2)


class RoundTrip:
    """One config text read as round-trip data, and data written back in that text's style."""

    def __init__(self, text: str) -> None:
        self._newline = "\r\n" if "\r\n" in text else "\n"
        self._text = text.replace("\r\n", "\n")
        header = _HEADER.match(self._text)
        self._header = header.group(0) if header else ""
        self._yaml = round_trip_yaml(self._text[len(self._header) :])

    def load(self, source: str) -> Any:
        """The text's data; a ConfigError names `source` and the line of bad YAML."""
        if not self._header:
            return load_yaml(self._yaml, self._text, source)
        load_yaml(round_trip_yaml(self._text), self._text, source)  # errors at the file's lines
        return self._yaml.load(self._text[len(self._header) :])

    def dump(self, data: Any) -> str:
        return (self._header + dump(self._yaml, data)).replace("\n", self._newline)


def round_trip_yaml(text: str) -> YAML:
    """A round-trip YAML reader and writer that writes in the style of `text`."""
    mapping, offset = indentation(text)
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    yaml.explicit_end = text.rstrip().endswith("\n...")
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
