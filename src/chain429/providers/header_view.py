"""A read-only, case-insensitive view of the rate-limit headers of a response that remembers
what it could not read."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from chain429.limits.metric import RawHeaders

T = TypeVar("T")

_LIMIT_NAME = re.compile(r"rate-?limit|tokenlimit|retry-after")
"""Every header a dialect reads has such a name; the others are not kept."""


class HeaderView(Mapping[str, str]):
    """The rate-limit headers of a response (names matching `_LIMIT_NAME`), lower-cased names,
    trimmed values. Typed getters return None for absent or unreadable values and record
    unreadable ones in `malformed`, so a parse never raises and nothing is lost.

    One view lives for one parse; it is the only mutable thing here and is never shared.
    """

    __slots__ = ("_headers", "_malformed", "_read")

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers: dict[str, str] = {}
        for name, value in headers.items():
            lower = name.lower()
            # Every name `_LIMIT_NAME` matches holds one of these: most headers stop here.
            if ("limit" in lower or "retry-after" in lower) and _LIMIT_NAME.search(lower):
                self._headers[lower] = value.strip()
        self._malformed: dict[str, str] = {}
        self._read: set[str] = set()

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> HeaderView:
        """`headers` itself when already a view (so parsers can share one), else a new view."""
        return headers if isinstance(headers, HeaderView) else cls(headers)

    def __getitem__(self, name: str) -> str:
        return self._headers[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)

    def read(self, name: str, parse: Callable[[str], T | None]) -> T | None:
        """`parse(value)` of header `name` (lower-case); None, recorded as malformed, on failure."""
        value = self._headers.get(name)
        if value is None:
            return None
        self._read.add(name)
        result = parse(value)
        if result is None:
            self._malformed[name] = value
        return result

    def raw(self, *names: str) -> RawHeaders:
        """The (name, value) pairs present among `names`, except values that did not parse:
        those stay in `malformed` only, since an upstream may put anything there, even a key
        it echoes back, and `raw` is shown by the status API."""
        return tuple(
            (n, self._headers[n]) for n in names if n in self._headers and n not in self._malformed
        )

    def text(self, name: str, max_length: int = 64) -> str | None:
        """Header `name` as printable text, cut to `max_length`; None when absent or empty."""
        value = self._headers.get(name)
        if value is None:
            return None
        self._read.add(name)
        printable = "".join(c for c in value[:max_length] if c.isprintable())
        return printable or None

    @property
    def malformed(self) -> RawHeaders:
        """Headers that were read and could not be parsed."""
        return tuple(self._malformed.items())

    @property
    def unread(self) -> RawHeaders:
        """Headers no parser read (an unknown dialect, or a new header of a known one)."""
        return tuple((n, v) for n, v in self._headers.items() if n not in self._read)
