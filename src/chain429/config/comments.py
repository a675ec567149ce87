"""The comments and blank lines between the items of a round-trip YAML collection, kept where a
reader expects them when items are removed, added or reordered.

ruamel.yaml hangs the lines that follow an item (blank lines, comments on lines of their own) on
the item's deepest last scalar, after that scalar's end-of-line comment. Read naively, removing
the last provider would remove the commented-out examples written after it, and moving a chain
entry would carry the blank line below it along. Here those lines are read as the file's author
meant them: comment lines describe the item below them (they move with it), blank lines separate
positions (they stay where they are), and what follows the last item stays after the last item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

Collection = CommentedMap | CommentedSeq
#: A new item of a sequence: the index of the item it was (its node reused), or None, and the node.
Placed = tuple[int | None, Any]


def replace_items(seq: CommentedSeq, items: Sequence[Placed]) -> None:
    """Make `seq` hold `items` in that order, each either one of its own (by old index) or new."""
    old = list(seq)
    gaps = [following(seq, i) for i in range(len(old))]
    tail = gaps.pop() if gaps else ""
    heading = {i + 1: _comment_lines(gap) for i, gap in enumerate(gaps)}
    blanks = [_blank_lines(gap) for gap in gaps]
    for i in range(len(old)):
        set_following(seq, i, "")
    notes = {i: seq.ca.items[i] for i in range(len(old)) if i in seq.ca.items}
    seq[:] = [node for _, node in items]
    seq.ca.items.clear()
    for j, (was, _) in enumerate(items):
        if was is not None and was in notes:
            seq.ca.items[j] = notes[was]
    for j in range(len(items) - 1):
        blank = blanks[j] if j < len(blanks) else (blanks[-1] if blanks else "")
        below = items[j + 1][0]
        set_following(seq, j, blank + (heading.get(below, "") if below is not None else ""))
    if items:
        set_following(seq, len(items) - 1, tail)


def add_key(mapping: CommentedMap, key: Any, value: Any) -> None:
    """Add `key` at the end of `mapping`, below the comment lines that ended it (a commented-out
    `# queueMode: false` reads as the new key's note) and above the blank lines that did."""
    keys = list(mapping)
    mapping[key] = value
    if keys:
        tail = following(mapping, keys[-1])
        blank = _blank_end(tail)
        set_following(mapping, keys[-1], tail[: len(tail) - len(blank)])
        set_following(mapping, key, blank)


def remove_key(mapping: CommentedMap, key: Any) -> None:
    """Remove `key` from `mapping` with the comment lines above it (they described it); the
    blank lines above it and the lines below it stay."""
    keys = list(mapping)
    at = keys.index(key)
    below = following(mapping, key)
    if at > 0:
        above = following(mapping, keys[at - 1])
        last = at == len(keys) - 1
        set_following(mapping, keys[at - 1], below if last else _blank_lines(above) + below)
    del mapping[key]
    mapping.ca.items.pop(key, None)


def following(parent: Collection, key: Any) -> str:
    """The lines after `parent[key]` (after its end-of-line comment): "" when there are none."""
    owner, at, slot = _owner(parent, key)
    entry = owner.ca.items.get(at)
    token = entry[slot] if entry else None
    if not isinstance(token, CommentToken):
        return ""
    return str(token.value).partition("\n")[2]


def set_following(parent: Collection, key: Any, lines: str) -> None:
    """Make `lines` follow `parent[key]`, keeping its end-of-line comment."""
    owner, at, slot = _owner(parent, key)
    entry = owner.ca.items.get(at)
    token = entry[slot] if entry else None
    if isinstance(token, CommentToken):
        token.value = str(token.value).partition("\n")[0] + "\n" + lines
    elif lines:
        owner.ca.items.setdefault(at, [None, None, None, None])[slot] = CommentToken(
            "\n" + lines, CommentMark(0), None
        )


def _owner(parent: Collection, key: Any) -> tuple[Collection, Any, int]:
    """Where the comment after `parent[key]` hangs: (collection, key, slot) of its deepest last
    scalar (or of the collection written in flow style, `{...}` or `[...]`, on one line)."""
    value = parent[key]
    if isinstance(value, CommentedMap | CommentedSeq) and value and not value.fa.flow_style():
        return _owner(value, next(reversed(value)) if isinstance(value, dict) else len(value) - 1)
    return parent, key, 2 if isinstance(parent, CommentedMap) else 0


def _blank_lines(lines: str) -> str:
    """The blank lines at the start of `lines`."""
    kept = []
    for line in lines.splitlines(keepends=True):
        if line.strip():
            break
        kept.append(line)
    return "".join(kept)


def _blank_end(lines: str) -> str:
    """The blank lines at the end of `lines`."""
    kept: list[str] = []
    for line in reversed(lines.splitlines(keepends=True)):
        if line.strip():
            break
        kept.append(line)
    return "".join(kept)


def _comment_lines(lines: str) -> str:
    """`lines` after their leading blank lines."""
    return lines[len(_blank_lines(lines)) :]
