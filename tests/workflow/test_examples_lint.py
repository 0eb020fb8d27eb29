"""The example workflows (docs/examples/), and the shipped templates and this repository's
own workflows when they exist, pass actionlint, zizmor and npm-guard's own workflow scan.

actionlint and zizmor come from the test extra (`pip install -e '.[test]'`); a missing
one fails with that instruction rather than skipping.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from linters import tool, zizmor

from npm_guard.workflow import scan_workflow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.y*ml"))
WORKFLOWS = [
    *EXAMPLES,
    *sorted((ROOT / "templates").glob("**/workflows/*.y*ml")),
    *sorted((ROOT / ".github" / "workflows").glob("*.y*ml")),
]
IDS = [p.relative_to(ROOT).as_posix() for p in WORKFLOWS]


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=IDS)
def test_actionlint_passes(workflow: Path) -> None:
    proc = subprocess.run(
        [tool("actionlint"), "-no-color", str(workflow.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=IDS)
def test_zizmor_passes(workflow: Path) -> None:
    proc = zizmor(workflow, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout, proc.stdout


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=IDS)
def test_npm_guard_finds_nothing(workflow: Path) -> None:
    findings = scan_workflow(
        workflow.relative_to(ROOT).as_posix(),
        workflow.read_text(encoding="utf-8"),
        repo_root=str(ROOT),
        no_ignores=True,
    )
    assert [(f.location.line, f.rule.id, f.message) for f in findings] == []
