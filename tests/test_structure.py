"""Structure the package keeps: which modules the hooks import, one kind of dataclass."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "npm_guard"
HOOKS = sorted(p.stem for p in (PACKAGE / "hooks").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("hook", HOOKS)
def test_a_hook_imports_the_engine_not_the_cli(hook: str, tmp_path: Path) -> None:
    """The hooks are front ends of the engine: the CLI's parser (every command, the
    audit's too) is none of their business, and would cost their start-up."""
    code = (
        "import sys\n"
        f"from npm_guard.hooks.{hook} import main\n"
        "print(sorted(m for m in sys.modules if m.startswith('npm_guard')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    modules = set(eval(proc.stdout))
    assert "npm_guard.frontend" in modules
    assert not modules & {"npm_guard.cli", "npm_guard.action", "npm_guard.audit.command"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_every_record_is_an_npm_guard_record() -> None:
    """One kind of dataclass: `npm_guard._record` (the standard `dataclasses` costs the
    hooks' start-up several milliseconds; `_record` says why). Type checkers read
    `_record` as `dataclasses`, so nothing is lost."""
    using = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "_record.py" and "dataclasses" in _imports(path)
    ]
    assert using == []


MAX_MODULE_LINES = 600


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Nodes under `if TYPE_CHECKING:`: imports a type checker reads, Python never runs."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(inner) for inner in ast.walk(child))
    return skipped


def import_graph() -> dict[str, set[str]]:
    """Module -> the npm_guard modules it imports, at module level or inside a function
    (a deferred import is still a dependency), resolving `from pkg import name` to the
    submodule when `name` is one, and counting a package's `__init__` as imported by
    whoever imports one of its submodules from outside."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        name, is_package = _module_name(path)
        modules[name] = (path, is_package)

    def resolve(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_nodes(tree)
        package = name if is_package else name.rpartition(".")[0]
        targets: list[str] = []
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets.extend(f"{module}.{alias.name}" for alias in node.names)
        for target in targets:
            if not target.startswith("npm_guard"):
                continue
            resolved = resolve(target)
            if resolved is None or resolved == name:
                continue
            graph[name].add(resolved)
            parts = resolved.split(".")
            for depth in range(1, len(parts)):
                parent = ".".join(parts[:depth])
                if parent in modules and parent != name and not name.startswith(parent + "."):
                    graph[name].add(parent)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
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
                    cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check below can fail: a two-module and a three-module cycle are found."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(import_cycles(graph)) == [["a", "b"], ["c", "d", "e"]]


def test_the_import_graph_sees_deferred_and_relative_imports() -> None:
    graph = import_graph()
    # cli imports the Action's main and the audit command inside functions
    deferred = {"npm_guard.action", "npm_guard.audit.command", "npm_guard.audit"}
    assert deferred <= graph["npm_guard.cli"]
    assert "npm_guard.frontend" in graph["npm_guard.cli"]


def test_no_import_cycle_in_the_package() -> None:
    assert import_cycles(import_graph()) == []


def test_no_module_over_600_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): count
        for path in sorted(PACKAGE.rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
