"""Dependencies point one way (STYLE.md rule 2); this walks every module's imports to keep it so.

cli -> app -> {proxy, admin};  proxy -> router -> {limits, providers, usage};
everyone may read config (which imports none of them) and the foundation root modules (which
import nothing of chain429); limits and providers never import the web layer or the database;
and no import cycle exists, between modules or between packages.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "chain429"

#: Root modules every layer may use; they import nothing of chain429.
FOUNDATION = {"errors", "clock", "outcome", "redaction", "tasks", "openai_errors", "event_hub"}
#: The shell around the packages: only other root modules import these.
SHELL = {
    "__main__",
    "cli",
    "demo",
    "demo_traffic",
    "runner",
    "server",
    "app",
    "logs",
    "upstream_http",
    "health_check",
    "upstream_pyreqwest",
    "workers",
}
WEB = {"state", "responses"}  # the web layer's app state and JSON answers: proxy and admin
#: package -> packages and root modules (of chain429) and libraries it must not import
FORBIDDEN: dict[str, set[str]] = {
    "config": {"proxy", "router", "limits", "providers", "usage", "admin", "sim", "aiohttp"}
    | SHELL
    | WEB,
    "limits": {"proxy", "router", "providers", "usage", "admin", "aiohttp", "sqlalchemy"}
    | SHELL
    | WEB,
    "providers": {"proxy", "router", "usage", "admin", "aiohttp", "sqlalchemy"} | SHELL | WEB,
    "router": {"proxy", "admin", "sqlalchemy", "aiohttp"} | SHELL | WEB,
    # usage's per-request log line (usage.request_line) reads the log levels and formats
    "usage": {"proxy", "router", "admin"} | (SHELL - {"logs"}) | WEB,
    "proxy": {"admin", "sqlalchemy"} | SHELL,
    "admin": {"proxy"} | SHELL,
    "sim": {"proxy", "router", "limits", "providers", "usage", "admin"} | SHELL | WEB,
    # the shared limit state: a tracker over Redis, below the router like limits itself
    "state_store": {"proxy", "router", "providers", "usage", "admin", "sim", "aiohttp"}
    | {"sqlalchemy"}
    | SHELL
    | WEB,
}
#: root module -> what else of chain429 it may import, besides FOUNDATION and config
ROOT_IMPORTS: dict[str, set[str]] = {
    "__init__": set(),
    "__main__": {"cli"},
    # usage: `check` looks at the database file; health_check: `health` asks a running proxy
    "cli": {"__init__", "runner", "demo", "usage", "health_check"}
    | {"workers", "logs"},  # `serve --workers` supervises; its log is set up as a proxy's
    "health_check": set(),
    "demo": {"runner", "server", "sim", "demo_traffic"},
    "demo_traffic": set(),
    # usage: the request-line sink; reconfigure: what a SIGHUP reload changed
    # upstream_*: `--upstream-client` picks the client; router: its UpstreamClient type
    "runner": {
        "app",
        "server",
        "state",
        "logs",
        "usage",
        "reconfigure",
        "router",
        "upstream_http",
        "upstream_pyreqwest",
        "workers",  # a worker of `serve --workers`: it shares the port, tells its supervisor
    },
    "server": set(),
    "workers": {"server"},  # `serve --workers`: the port's refusals are the server's words
    "upstream_http": {"router"},  # the aiohttp client behind the router's UpstreamClient seam
    "upstream_pyreqwest": {"router"},  # the pyreqwest client in its place (issue 14)
    "app": {
        "admin",
        "proxy",
        "router",
        "limits",
        "usage",
        "state",
        "logs",
        "upstream_http",
        "reconfigure",
        "state_store",
        "server",  # the client timeout the server applies (server.CLIENT_TIMEOUT_S)
    },
    "state": {"router", "limits", "usage", "logs", "state_store"},
    "reconfigure": {"state", "router", "proxy", "usage"},
    "logs": set(),
    "responses": set(),
}
#: the one allowed crossing: providers emit the report type that limits consumes
ALLOWED = {("providers", "limits.metric")}


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (a function's lazy import counts too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif node.module and not node.level:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def _unit(name: str) -> str | None:
    """The package or root module of chain429 that the dotted `name` belongs to, if any."""
    if name == "chain429":
        return "__init__"
    if not name.startswith("chain429."):
        return None
    return name.split(".")[1]


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


def test_every_package_and_root_module_has_a_rule() -> None:
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    roots = {p.stem for p in SRC.glob("*.py")}
    assert packages - {"web"} == set(FORBIDDEN)
    assert roots == set(ROOT_IMPORTS) | FOUNDATION


@pytest.mark.parametrize("module", sorted(set(ROOT_IMPORTS) | FOUNDATION))
def test_root_modules_import_only_what_their_layer_may(module: str) -> None:
    if module in FOUNDATION:
        allowed: set[str] = set()
    else:
        allowed = ROOT_IMPORTS[module] | FOUNDATION | {"config"}
    imported = {_unit(name) for name in _imports(SRC / f"{module}.py")} - {None}
    broken = {u for u in imported if u not in allowed}
    assert not broken, f"{module} imports {sorted(str(u) for u in broken)}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_graph() -> dict[str, set[str]]:
    """chain429's modules -> the chain429 modules each imports (`from a.b import c` imports
    `a.b.c` when that is a module, else `a.b`), plus the packages whose `__init__` that runs
    (a module's own packages aside: they are already being imported). Imports inside
    `if TYPE_CHECKING:` would not count, as they never run; there are none today."""
    paths = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        targets: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = {
            id(n)
            for branch in ast.walk(tree)
            if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
            for n in ast.walk(branch)
        }
        for node in _import_nodes(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif node.module and not node.level:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
                names = [n if n in paths else node.module for n in names]
            else:
                continue
            for name in names:
                if not name.startswith("chain429"):
                    continue
                parts = name.split(".")
                for depth in range(1, len(parts) + 1):
                    prefix = ".".join(parts[:depth])
                    if prefix in paths and not module.startswith(f"{prefix}."):
                        targets.add(prefix)
        graph[module] = targets - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules() -> None:
    assert cycles(module_graph()) == []


def test_no_import_cycle_between_packages_and_root_modules() -> None:
    units: dict[str, set[str]] = {}
    for module, targets in module_graph().items():
        unit = _unit(module) or module
        for target in targets:
            other = _unit(target) or target
            if other not in (unit, "__init__"):
                units.setdefault(unit, set()).add(other)
    assert cycles(units) == []


def test_the_cycle_test_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


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


@pytest.mark.parametrize("module", sorted(FOUNDATION))
def test_foundation_modules_need_no_web_or_database_library(module: str) -> None:
    """The router builds errors and reads the clock without loading aiohttp or SQLAlchemy."""
    libraries = {name.split(".")[0] for name in _imports(SRC / f"{module}.py")}
    assert not libraries & {"aiohttp", "sqlalchemy", "structlog"}, module


def test_the_log_setup_imports_no_usage_module() -> None:
    # The per-request log line is a usage sink (usage.request_line): usage may import logs,
    # never the other way round, so the two cannot import each other.
    assert not {name for name in _imports(SRC / "logs.py") if name.startswith("chain429.usage")}
