"""The workflow engine keeps no state between scans in its modules.

What one workflow's analysis needs to remember (parsed package.json files, the chain of
called workflows being followed, the files it could not read) belongs to that analysis,
and the text of repository files to the scan's reader. A module-level cache or guard
would carry one scan's repository into the next (a long-lived process, the test suite)
and, being shared, is not safe to scan with in parallel.
"""

from __future__ import annotations

import sys
from pathlib import Path

from npm_guard.workflow import scan_workflow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"

CALLER = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: npm run release && bash scripts/publish.sh
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
  call:
    uses: ./.github/workflows/called.yml
    secrets: inherit
"""
CALLED = """\
on: workflow_call
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
"""


def engine_state() -> dict[str, str]:
    """Every module-level value of the engine's modules, as text."""
    state = {}
    for name, module in sorted(sys.modules.items()):
        if module is None:
            continue
        if name.startswith("npm_guard.workflow") or name == "npm_guard.rules._workflow_common":
            for key, value in sorted(vars(module).items()):
                if not key.startswith("__"):
                    state[f"{name}.{key}"] = repr(value)
    return state


def write_repository(root: Path) -> None:
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "called.yml").write_text(CALLED, encoding="utf-8")
    (root / "package.json").write_text(
        '{"scripts": {"release": "npm run build && npm publish", "build": "tsc"},'
        ' "workspaces": ["packages/*"]}',
        encoding="utf-8",
    )
    (root / "scripts").mkdir()
    (root / "scripts" / "publish.sh").write_text("npm publish --workspaces\n", encoding="utf-8")
    (root / ".npmrc").write_text("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")


def test_scanning_leaves_the_engine_modules_as_they_were(tmp_path: Path) -> None:
    write_repository(tmp_path)
    scan_workflow("warm-up.yml", "on: push\njobs: {}\n", repo_root=str(tmp_path))  # imports
    before = engine_state()
    findings = scan_workflow(".github/workflows/release.yml", CALLER, repo_root=str(tmp_path))
    assert {f.rule.id for f in findings} >= {"workflow-publish-with-long-lived-token"}
    for fixture in sorted(FIXTURES.glob("*/*.y*ml")):
        repo = fixture.with_name(fixture.name.split(".")[0] + ".repo")
        root = repo if repo.is_dir() else fixture.parent
        scan_workflow(fixture.name, fixture.read_text(encoding="utf-8"), repo_root=str(root))
    after = engine_state()
    assert before == after
