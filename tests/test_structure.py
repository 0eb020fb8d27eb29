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
