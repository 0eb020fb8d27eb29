"""The workflow engine touches the file system only through the injected reader.

Everything it reads besides the workflow file (package.json, `.npmrc`,
`pnpm-workspace.yaml`, local scripts, called workflows) goes through one
`npm_guard.repo_files.RepositoryFiles`, handed in by the scan: regular files inside the
repository only, size-capped, read once per scan. A plain `open()`, `os.path.exists()`
or `glob()` in the engine would go around it (that is how a FIFO named package.json
hung the hook), so the engine's modules may not call or import any of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import npm_guard.workflow

ENGINE = Path(npm_guard.workflow.__file__).parent
SHARED_RULE_HELPERS = ENGINE.parent / "rules" / "_workflow_common.py"

# Modules whose only business is files, processes or paths on disk.
FORBIDDEN_MODULES = frozenset(
    {"os", "io", "glob", "pathlib", "shutil", "tempfile", "subprocess", "stat", "fileinput"}
    | {"mmap", "zipfile", "tarfile", "importlib", "ntpath", "genericpath"}
)
FORBIDDEN_BUILTINS = frozenset({"open", "__import__", "exec", "eval", "compile"})
# posixpath is pure string handling except for these, which ask the file system (or the
# current directory); only the string functions are allowed.
POSIXPATH_ALLOWED = frozenset({"join", "normpath", "dirname", "basename", "split", "isabs"})


def file_system_access(source: str) -> list[str]:
    """Each import or call in `source` that could touch the file system, with its line."""
    found: list[str] = []
    posixpath_names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in FORBIDDEN_MODULES:
                    found.append(f"{node.lineno}: import {alias.name}")
                if alias.name == "posixpath":
                    posixpath_names.add(alias.asname or "posixpath")
        elif isinstance(node, ast.ImportFrom):
            top = (node.module or "").split(".")[0]
            if top in FORBIDDEN_MODULES:
                found.append(f"{node.lineno}: from {node.module} import …")
            if top == "posixpath":
                found.append(f"{node.lineno}: from posixpath import …")
        elif isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name) and function.id in FORBIDDEN_BUILTINS:
                found.append(f"{node.lineno}: {function.id}()")
        elif isinstance(node, ast.Attribute):
            owner = node.value
            if (
                isinstance(owner, ast.Name)
                and owner.id in posixpath_names
                and node.attr not in POSIXPATH_ALLOWED
            ):
                found.append(f"{node.lineno}: {owner.id}.{node.attr}")
    return found


def engine_modules() -> list[Path]:
    return [*sorted(ENGINE.glob("*.py")), SHARED_RULE_HELPERS]


@pytest.mark.parametrize("module", engine_modules(), ids=lambda path: path.name)
def test_the_engine_reads_only_through_the_injected_reader(module: Path) -> None:
    assert file_system_access(module.read_text(encoding="utf-8")) == []


def test_the_engine_modules_are_all_checked() -> None:
    names = {path.name for path in engine_modules()}
    assert {"package_scripts.py", "follow_scripts.py", "build.py", "consulted.py"} <= names


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("with open(path) as f: pass", ["1: open()"]),
        ("import os\nos.path.exists(p)", ["1: import os"]),
        ("import os.path", ["1: import os.path"]),
        ("from os import path", ["1: from os import …"]),
        ("import glob", ["1: import glob"]),
        ("from pathlib import Path", ["1: from pathlib import …"]),
        ("import posixpath\nposixpath.isfile(p)", ["2: posixpath.isfile"]),
        ("import posixpath as pp\npp.realpath(p)", ["2: pp.realpath"]),
        ("import posixpath\nposixpath.relpath(a, b)", ["2: posixpath.relpath"]),
        ("from posixpath import exists", ["1: from posixpath import …"]),
        ("import posixpath\nposixpath.normpath(posixpath.join(a, b))", []),
        ("def f(files):\n    return files.read('package.json', 1024)", []),
    ],
)
def test_the_check_finds_each_way_around_the_reader(source: str, expected: list[str]) -> None:
    assert file_system_access(source) == expected
