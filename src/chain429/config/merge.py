"""Plain data written over a round-trip YAML node, changing only what differs.

What is equal stays the file's own node, with its comments, quoting and `${ENV}` references; a
mapping is edited in place (keys removed, changed or added at its end); a sequence reuses the
items it already holds, wherever they move to. A string the file writes as `${VAR}` is equal to
the value the variable expands to, so writing back what was read never expands a reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import ScalarString

from chain429.config.comments import Placed, add_key, remove_key, replace_items

#: A string's value once its `${...}` references are expanded (None: it cannot be expanded).
Expand = Callable[[str], str | None]


def merged(old: Any, new: Any, expand: Expand) -> Any:
    """`new` in the place of `old`: `old` itself when they are equal, `old` edited in place when
    both are mappings or both sequences, else a new node (a string keeping `old`'s quotes)."""
    if same(old, new, expand):
        return old
    if isinstance(old, CommentedMap) and isinstance(new, Mapping):
        _merge_mapping(old, new, expand)
        return old
    if isinstance(old, CommentedSeq) and _is_sequence(new):
        _merge_sequence(old, new, expand)
        return old
    if isinstance(old, ScalarString) and isinstance(new, str):
        return type(old)(new)
    return node(new)


def put(mapping: CommentedMap, key: str, value: Any, expand: Expand) -> None:
    """`mapping[key] = value`, merged over what the key holds (added at the end if absent)."""
    if key not in mapping:
        add_key(mapping, key, node(value))
        return
    result = merged(mapping[key], value, expand)
    if result is not mapping[key]:
        mapping[key] = result


def same(old: Any, new: Any, expand: Expand) -> bool:
    """Whether `old` (as the file has it) means `new`; a boolean is never equal to a number."""
    if isinstance(old, str) and "${" in old:
        text = _as_text(new)
        return old == new or (text is not None and expand(old) == text)
    if isinstance(old, str) or isinstance(new, str):
        return isinstance(old, str) and isinstance(new, str) and old == new
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return old.keys() == new.keys() and all(same(old[k], new[k], expand) for k in new)
    if _is_sequence(old) and _is_sequence(new):
        pairs = zip(old, new, strict=False)
        return len(old) == len(new) and all(same(o, n, expand) for o, n in pairs)
    if isinstance(old, bool) != isinstance(new, bool):
        return False
    return bool(old == new)


def node(value: Any) -> Any:
    """`value` (plain data) as a round-trip node."""
    if isinstance(value, Mapping):
        return CommentedMap((k, node(v)) for k, v in value.items())
    if _is_sequence(value):
        return CommentedSeq(node(v) for v in value)
    return value


def plain(value: Any) -> Any:
    """A round-trip node as plain data (dicts, lists, str, int, float, bool, None)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if _is_sequence(value):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _merge_mapping(old: CommentedMap, new: Mapping[str, Any], expand: Expand) -> None:
    for key in [k for k in old if k not in new]:
        remove_key(old, key)
    for key, value in new.items():
        put(old, key, value, expand)


def _merge_sequence(old: CommentedSeq, new: Sequence[Any], expand: Expand) -> None:
    """Each new item takes an equal old one if any is left, else edits the old item at its
    position when both are mappings (a changed entry keeps its comments), else is new."""
    unused = list(range(len(old)))
    taken: list[int | None] = []
    for value in new:
        match = next((i for i in unused if same(old[i], value, expand)), None)
        if match is not None:
            unused.remove(match)
        taken.append(match)
    items: list[Placed] = []
    for at, (match, value) in enumerate(zip(taken, new, strict=True)):
        if match is not None:
            items.append((match, old[match]))
        elif at in unused and isinstance(old[at], CommentedMap):
            unused.remove(at)
            items.append((at, merged(old[at], value, expand)))
        else:
            items.append((None, _styled_like(old, node(value))))
    replace_items(old, items)


def _styled_like(siblings: CommentedSeq, item: Any) -> Any:
    """A new item written as all its siblings are: a mapping `{...}` on one line, a string
    in the same quotes."""
    if not siblings:
        return item
    if isinstance(item, CommentedMap):
        if all(isinstance(s, CommentedMap) and s.fa.flow_style() for s in siblings):
            item.fa.set_flow_style()
    elif isinstance(item, str) and isinstance(siblings[0], ScalarString):
        style = type(siblings[0])
        if all(type(s) is style for s in siblings):
            return style(item)
    return item


def _as_text(value: Any) -> str | None:
    """A scalar as a variable would have to spell it (`${PORT}` holding "3429" means 3429)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)
