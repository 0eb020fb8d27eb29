"""The linters the suite runs on shipped workflows (installed by the `test` extra)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def tool(name: str) -> str:
    """A linter installed next to this Python (the test extra), else on PATH."""
    here = str(Path(sys.executable).parent)
    found = shutil.which(name, path=here + os.pathsep + os.environ.get("PATH", ""))
    if found is None:
        pytest.fail(f"{name} is not installed: install the test extra (pip install -e '.[test]')")
    return found


def zizmor(*paths: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`zizmor --offline` on `paths`, plain text, no colour."""
    return subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "plain", *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
