"""The error tree drawn in `chain429.errors` is true (STYLE.md rule 7): every exception class
defined anywhere under src/ derives from `Chain429Error` and is drawn in the tree, under its
real base class, with the module it lives in; nothing is drawn that does not exist, and every
error at the tips of the tree is raised somewhere (built, at least)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import chain429.errors
from chain429.errors import Chain429Error

SRC = Path(__file__).parents[2] / "src" / "chain429"
#: Modules that cannot import chain429: the insert worker runs by path under `python -I -S`,
#: on the standard library alone (the writer-thread change of issue 10 deletes it).
STANDALONE = {"usage.insert_worker"}
#: `├── name` / `│   └── module.name`, anywhere in the docstring
_TREE_LINE = re.compile(r"^ *(?P<branches>(?:[│ ]   )*)(?:[├└]── )?(?P<qualified>[\w.]+)(?: |$)")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def exception_classes() -> dict[str, type[BaseException]]:
    """`module.Class` -> class, for every class defined in src/ that is an exception: the
    classes are found in the source (ast), then looked up in their imported module."""
    found: dict[str, type[BaseException]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts or _module_name(path).removeprefix("chain429.") in STANDALONE:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        names = [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        if not names:
            continue
        module = importlib.import_module(_module_name(path))
        for name in names:
            value = getattr(module, name, None)
            if isinstance(value, type) and issubclass(value, BaseException):
                found[f"{module.__name__.removeprefix('chain429.')}.{name}"] = value
    return found


def constructed_names() -> set[str]:
    """Every name called anywhere in src/ (`Name(...)` or `module.Name(...)`)."""
    called: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name):
                    called.add(func.id)
                elif isinstance(func, ast.Attribute):
                    called.add(func.attr)
    return called


def drawn_tree() -> dict[str, str | None]:
    """`module.Class` -> `module.Class` of its parent in the docstring's tree (None for the
    root). A bare name lives in `errors`."""
    doc = chain429.errors.__doc__ or ""
    lines = [line for line in doc.splitlines() if "Chain429Error" in line or "──" in line]
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Chain429Error"))
    parents: list[str] = []
    tree: dict[str, str | None] = {}
    for line in lines[start:]:
        match = _TREE_LINE.match(line)
        assert match, f"not a tree line: {line!r}"
        qualified = match["qualified"]
        name = qualified if "." in qualified else f"errors.{qualified}"
        depth = len(match["branches"]) // 4 + (1 if "──" in line else 0)
        del parents[depth:]
        tree[name] = parents[-1] if parents else None
        parents.append(name)
    return tree


def test_every_exception_class_derives_from_chain429_error() -> None:
    outside = sorted(n for n, c in exception_classes().items() if not issubclass(c, Chain429Error))
    assert not outside, f"not under Chain429Error: {outside}"


def test_every_exception_class_is_drawn_in_the_tree() -> None:
    missing = sorted(set(exception_classes()) - set(drawn_tree()))
    assert not missing, f"missing from the tree in errors.py: {missing}"


def test_the_tree_draws_only_real_classes_under_their_real_base() -> None:
    classes = exception_classes()
    wrong = []
    for name, parent in drawn_tree().items():
        cls = classes.get(name)
        if cls is None:
            wrong.append(f"{name} does not exist")
        elif parent is not None and classes[parent] not in cls.__bases__:
            wrong.append(f"{name} does not derive from {parent}")
    assert not wrong, wrong


def test_every_leaf_of_the_tree_is_raised_somewhere() -> None:
    tree = drawn_tree()
    leaves = set(tree) - {parent for parent in tree.values() if parent is not None}
    called = constructed_names()
    unused = sorted(name for name in leaves if name.rpartition(".")[2] not in called)
    assert not unused, f"drawn but never raised: {unused}"
