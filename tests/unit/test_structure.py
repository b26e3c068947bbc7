"""The structure the next engineer relies on, checked on every run (issue: "rebuilt so the next engineer can live
in them"): small modules, simple functions, no import cycles, one HTTP toolkit, no sys.path edits, no import
guards around the project's own modules."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("backend", "dashboard", "bench", "deploy")
MAX_MODULE_LINES = 400
MAX_COMPLEXITY = 15


def source_files(packages=PROJECT_PACKAGES) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py") if "node_modules" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_no_module_outside_tests_is_over_400_lines():
    too_long = {str(p.relative_to(ROOT)): n for p in source_files() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


def test_no_function_is_more_complex_than_15():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--select", "C901", "--config", f"lint.mccabe.max-complexity={MAX_COMPLEXITY}",
         "--output-format", "concise", *PROJECT_PACKAGES, "tests"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports, at module level or inside a function (a deferred import that would
    close a cycle is still a cycle: the two modules cannot be understood apart)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
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
                result.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return result


def test_no_import_cycles():
    files = {module_name(p): p for p in source_files(("backend", "dashboard", "bench"))}
    known = set(files)
    graph = {}
    for name, path in files.items():
        # A package's __init__ importing its own submodules is how it re-exports them, not a cycle.
        graph[name] = {m for m in _imports(path, known) if m != name and not m.startswith(name + ".")}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_one_http_toolkit_no_sys_path_edits_no_import_guards():
    offenders = []
    for path in source_files() + sorted((ROOT / "tests").rglob("*.py")):
        text = path.read_text()
        where = str(path.relative_to(ROOT))
        if re.search(r"^\s*(from http\.server import|import http\.server)", text, re.M):
            offenders.append(f"{where}: imports http.server (use backend/local/web)")
        if re.search(r"sys\.path\.(insert|append)", text):
            offenders.append(f"{where}: edits sys.path (the project is installed with pip install -e .)")
        for match in re.finditer(r"try:\n(\s+)(from|import) (backend|dashboard)[^\n]*\n\s*except ImportError", text):
            offenders.append(f"{where}: guards an import of the project's own {match[3]}")
    assert offenders == []
