"""The import graph of client/ and cli/, read from the source: no cycle, and cli/'s layers.

Every import counts: module level, inside functions, and under ``if TYPE_CHECKING:`` (a
module that names a type from above it depends on it just the same). cli/'s layers, top
to bottom: ``cli.main`` → ``cli.command`` (click, ``Options``, the plans) → ``cli.run`` →
``cli.request`` and ``cli.output`` (side by side, neither importing the other) → the
leaves (``cli.env``, ``cli.exitcodes``, ``cli.messages``, ``cli.masking``, ``cli.timings``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("client", "cli")
LEAVES = frozenset(
    {"cli", "cli.env", "cli.exitcodes", "cli.messages", "cli.masking", "cli.timings"}
)
# What each layer of cli/ may import besides the leaves and itself.
ALLOWED = {
    "leaf": set(),
    "cli.request": set(),
    "cli.output": set(),
    "cli.run": {"cli.request", "cli.output"},
    "cli.command": {"cli.run", "cli.request", "cli.output"},
    "cli.main": {"cli.command"},
}
MAX_CLI_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imported(module: str, path: Path) -> set[str]:
    """Every module name ``module`` imports, wherever the import statement is."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _own(name: str) -> str | None:
    """The project module ``name`` refers to (``a.b.C`` → module ``a.b``), or None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = {_own(name) for name in _imported(module, path)}
        # A package's own __init__ is imported on the way to any submodule: not an edge.
        graph[module] = {
            t for t in targets if t and t != module and not module.startswith(t + ".")
        }
    return graph


GRAPH = _graph()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _is_cli(module: str) -> bool:
    return module == "cli" or module.startswith("cli.")


CLI_MODULES = sorted(m for m in MODULES if _is_cli(m))


def _layer(module: str) -> str:
    if module in LEAVES:
        return "leaf"
    if module in ("cli.main", "cli.__main__"):
        return "cli.main"
    return ".".join(module.split(".")[:2])


def test_the_graph_sees_every_module_and_its_imports() -> None:
    assert {"client.session", "cli.main", "cli.command.plan", "cli.run.single"} <= set(GRAPH)
    assert "cli.command.options" in GRAPH["cli.command.plan"]
    # TYPE_CHECKING and function-level imports are edges too.
    assert "client" in GRAPH["cli.run.session"]


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_client_or_cli() -> None:
    assert _cycles(GRAPH) == []


def test_client_never_imports_the_front_end() -> None:
    for module, path in MODULES.items():
        if module.split(".")[0] != "client":
            continue
        heads = {name.split(".")[0] for name in _imported(module, path)}
        assert not heads & {"cli", "click", "rich"}, module


@pytest.mark.parametrize("module", CLI_MODULES)
def test_cli_imports_point_down(module: str) -> None:
    layer = _layer(module)
    allowed = {"leaf", layer, *ALLOWED[layer]}
    wrong = sorted(
        target for target in GRAPH[module] if _is_cli(target) and _layer(target) not in allowed
    )
    assert wrong == [], f"{module} ({layer}) imports {wrong}"


def test_options_stay_in_the_command_layer() -> None:
    """The parsed command line is read once, at the top; lower layers get plans."""
    users = sorted(m for m, deps in GRAPH.items() if "cli.command.options" in deps)
    assert users and all(m.startswith("cli.command.") for m in users), users


@pytest.mark.parametrize("module", CLI_MODULES)
def test_cli_modules_stay_small(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_CLI_LINES, f"{module}: {lines} lines"
