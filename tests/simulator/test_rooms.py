"""The simulator's rooms import one way: no cycle inside `harness/ecs` (type-only
imports included), and the simulator offers every call its rooms make back."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import harness.ecs
from harness.ecs.cluster import Cluster
from harness.ecs.simulator import Simulator

PACKAGE = Path(harness.ecs.__file__).parent


def _imports(path: Path) -> set[str]:
    """Modules of harness.ecs that `path` imports, at run time or for type checking."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "harness.ecs":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("harness.ecs."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[2] for a in node.names if a.name.startswith("harness.ecs."))
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        for nxt in sorted(graph.get(node, ())):
            cycle = visit(nxt, path + [node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def test_no_import_cycle_inside_the_simulator_package():
    graph = {p.stem: _imports(p) - {p.stem} for p in PACKAGE.glob("*.py")}
    assert graph["scheduler"] and "simulator" not in graph["scheduler"]   # the graph is really read
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_simulator_offers_everything_its_rooms_ask_of_a_cluster():
    sim = Simulator()
    try:
        wanted = set(Cluster.__annotations__) | {
            name for name, _ in inspect.getmembers(Cluster, inspect.isfunction) if not name.startswith("_")}
        assert wanted >= {"clock", "roll_back", "start_service_tasks"}
        missing = sorted(name for name in wanted if not hasattr(sim, name))
        assert not missing, f"Simulator lacks {missing}"
        for name, fn in inspect.getmembers(Cluster, inspect.isfunction):
            if not name.startswith("_"):
                assert list(inspect.signature(fn).parameters) == list(inspect.signature(getattr(Simulator, name)).parameters), name
    finally:
        sim.close()
