"""The floor plan holds: no import cycles, the kernel imports no wing, handlers never import each other.

The import graph is read from the source with :mod:`ast` (every ``import``, at module level, inside functions
and under ``TYPE_CHECKING`` alike), so a lazy import cannot hide an arrow. ``eventbt/__init__.py``'s
``TYPE_CHECKING`` block is left out: it only names the public API for type checkers, each name loading on
first use.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("eventbt", "handlers", "strategies")
KERNEL = {"eventbt.events", "eventbt.bus", "eventbt.quiet", "eventbt.handler", "eventbt.audit", "eventbt.portfolio",
          "eventbt.prices", "eventbt.schedule", "eventbt.errors", "eventbt.protocols", "eventbt.exact", "eventbt.paths"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def _imports(name: str, path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    if name == "eventbt":
        for node in tree.body:
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
                skip.update(id(child) for child in ast.walk(node))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in MODULES else base


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = set()
        for imported in _imports(name, path):
            # a.b.c imports a.b (its package's __init__) too, as Python does
            while imported and imported not in MODULES:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _room(module: str) -> str:
    """A module's room in the floor plan: a wing (eventbt/<wing>/), a root module, or handlers/ or strategies/."""
    parts = module.split(".")
    if parts[0] != "eventbt":
        return parts[0]
    if len(parts) > 1 and f"eventbt.{parts[1]}" in MODULES and MODULES[f"eventbt.{parts[1]}"].name == "__init__.py":
        return f"eventbt.{parts[1]}"
    return module


def test_the_reader_finds_the_arrows_it_should() -> None:
    """The graph has the arrows everyone knows are there (so an empty cycle list below means something)."""
    graph = _graph()
    assert "eventbt.events" in graph["eventbt.bus"]
    assert "eventbt.portfolio" in graph["handlers.portfolio"]
    assert "eventbt.debug.debugger" in graph["eventbt.simulation"]  # a function-local import counts
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_import_cycle() -> None:
    """No two modules of eventbt/, handlers/ or strategies/ import each other, directly or round a loop."""
    assert _cycles(_graph()) == []


def test_no_cycle_between_the_rooms() -> None:
    """Taken a wing (eventbt/<wing>/) at a time, with handlers/ and strategies/ as one room each: no cycle."""
    rooms: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        rooms.setdefault(_room(module), set()).update(_room(t) for t in targets if _room(t) != _room(module))
    assert _cycles(rooms) == []


@pytest.mark.parametrize("module", sorted(KERNEL))
def test_the_kernel_imports_only_the_kernel(module: str) -> None:
    """Events, bus, quiet, handler, audit, portfolio, prices, schedule, errors, protocols and exact import no wing,
    no handler and no strategy."""
    outside = sorted(target for target in _graph()[module] if target not in KERNEL)
    assert outside == []


def test_handlers_never_import_each_other() -> None:
    """A handler module imports no other module of handlers/ (they talk only through events)."""
    graph = _graph()
    crossing = sorted((name, target) for name in graph if name.startswith("handlers.")
                      for target in graph[name] if target.startswith("handlers"))
    assert crossing == []


def test_the_root_of_eventbt_stays_small() -> None:
    """eventbt/ holds the kernel and the run (pipeline, simulation) at its root; the tools are in wings."""
    root_modules = sorted(path.stem for path in (ROOT / "eventbt").glob("*.py")
                          if path.stem not in ("__init__", "__main__"))
    assert {f"eventbt.{name}" for name in root_modules} == KERNEL | {"eventbt.pipeline", "eventbt.simulation"}
