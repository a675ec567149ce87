"""Dependencies point one way (STYLE.md rule 2); this walks every module's imports to keep it so.

cli -> app -> {proxy, admin};  proxy -> router -> {limits, providers, usage};
everyone may read config (which imports none of them);
limits and providers never import the web layer or the database.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "chain429"

#: package -> packages (of chain429) and libraries it must not import
FORBIDDEN: dict[str, set[str]] = {
    "config": {"proxy", "router", "limits", "providers", "usage", "admin", "app", "sim", "aiohttp"},
    "limits": {"proxy", "router", "providers", "usage", "admin", "app", "aiohttp", "sqlalchemy"},
    "providers": {"proxy", "router", "usage", "admin", "app", "aiohttp", "sqlalchemy"},
    "router": {"proxy", "admin", "app", "cli", "sqlalchemy"},
    "usage": {"proxy", "router", "admin", "app", "cli"},
    "proxy": {"admin", "cli", "sqlalchemy"},
    "sim": {"proxy", "router", "limits", "providers", "usage", "admin", "app"},
}
#: the one allowed crossing: providers emit the report type that limits consumes
ALLOWED = {("providers", "limits.metric")}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package: str) -> None:
    broken = []
    for path in _modules(package):
        for name in _imports(path):
            inner = name.removeprefix("chain429.") if name.startswith("chain429.") else None
            target = inner.split(".")[0] if inner is not None else name.split(".")[0]
            if target not in FORBIDDEN[package]:
                continue
            if inner is not None and any(
                package == p and inner.startswith(allowed) for p, allowed in ALLOWED
            ):
                continue
            broken.append(f"{path.relative_to(SRC)} imports {name}")
    assert not broken, "\n".join(broken)


def test_no_module_runs_anything_at_import() -> None:
    """No app object, no env reads, no file writes at import: only definitions at top level."""
    allowed = (
        ast.Import,
        ast.ImportFrom,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Assign,
        ast.AnnAssign,
        ast.Expr,
        ast.If,
        ast.Try,
    )
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:  # Alembic runs env.py for its side effects, by design
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, allowed):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} runs an expression")
    assert not offenders, offenders


def test_the_log_setup_imports_no_usage_module() -> None:
    # The per-request log line is a usage sink (usage.request_line): usage may import logs,
    # never the other way round, so the two cannot import each other.
    assert not {name for name in _imports(SRC / "logs.py") if name.startswith("chain429.usage")}
