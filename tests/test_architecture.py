"""The shape of the code: no import cycles between any two modules of convtrace, and the
layering contracts of pyproject.toml (import-linter) kept."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

grimp = pytest.importorskip("grimp")


def _cycle(graph: object, modules: set[str]) -> list[str] | None:
    """One import cycle among ``modules`` (module → directly imported modules), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for dep in sorted(graph.find_modules_directly_imported_by(m) & modules):  # type: ignore[attr-defined]
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        state[m] = 2
        stack.pop()
        return None

    for m in sorted(modules):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("convtrace")
    modules = set(graph.modules) - {"convtrace"}  # the package's __init__ only re-exports
    cycle = _cycle(graph, {m for m in modules if m.startswith("convtrace.")})
    assert cycle is None, " -> ".join(cycle or [])


def test_a_planted_cycle_is_found() -> None:
    class Graph:
        edges: ClassVar[dict[str, set[str]]] = {"a": {"b"}, "b": {"c"}, "c": {"a"}}

        def find_modules_directly_imported_by(self, m: str) -> set[str]:
            return self.edges[m]

    assert _cycle(Graph(), {"a", "b", "c"}) == ["a", "b", "c", "a"]


def test_import_contracts_are_kept() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([exe, "--config", str(root / "pyproject.toml")], cwd=root, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
