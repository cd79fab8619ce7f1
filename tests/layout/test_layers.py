"""The layering rule, read from the import graph of `multica/` (README, "Layout").

Foundation modules serve every area and import no product package; product packages may import the
foundation and each other, but never in a circle. The app factory (`multica/__init__.py`) and the
schema registry (`multica/models.py`) sit above everything and are not part of the graph.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "multica"
FOUNDATION = {
    "config", "extensions", "errors", "inputs", "db_utils", "emails", "logging", "ratelimit",
    "analytics", "metrics", "auth",
}
ABOVE_EVERYTHING = {"__init__", "models"}


def _unit(path: Path) -> str:
    """The top-level unit a file belongs to: `auth` for `multica/auth/views.py`, `config` for `multica/config.py`."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imported_units(path: Path) -> set[str]:
    """Every `multica.<unit>` this file imports, at module level or inside functions."""
    units = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "multica":
                names = [f"multica.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "multica" and len(parts) > 1:
                units.add(parts[1])
    return units


def import_graph() -> dict[str, set[str]]:
    """unit -> the other units it imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = _unit(path)
        if unit in ABOVE_EVERYTHING:
            continue
        graph[unit] |= _imported_units(path) - {unit}
        graph[unit] -= ABOVE_EVERYTHING
    return graph


def _cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start, if there is one."""
    stack = [(start, [start])]
    seen = set()
    while stack:
        node, path = stack.pop()
        for neighbour in sorted(graph.get(node, ())):
            if neighbour == start:
                return [*path, start]
            if neighbour not in seen:
                seen.add(neighbour)
                stack.append((neighbour, [*path, neighbour]))
    return None


GRAPH = import_graph()


def test_the_graph_is_read():
    # A broken reader would pass every other test vacuously.
    assert {"auth", "analytics", "workspaces", "onboarding"} <= set(GRAPH)
    assert "analytics" in GRAPH["onboarding"]
    assert {"workspaces", "agents"} <= GRAPH["issues"]


@pytest.mark.parametrize("unit", sorted(FOUNDATION))
def test_foundation_imports_no_product_package(unit):
    upward = sorted(GRAPH.get(unit, set()) - FOUNDATION)
    assert upward == [], f"multica.{unit} imports product package(s) {upward}"


@pytest.mark.parametrize("unit", sorted(GRAPH))
def test_no_import_cycle_between_packages(unit):
    cycle = _cycle_through(GRAPH, unit)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_sees_a_cycle_and_an_upward_import():
    graph = {"auth": {"config", "onboarding"}, "onboarding": {"auth"}, "config": set()}
    assert _cycle_through(graph, "auth") == ["auth", "onboarding", "auth"]
    assert _cycle_through(graph, "config") is None
    assert graph["auth"] - FOUNDATION == {"onboarding"}
