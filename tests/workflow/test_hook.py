"""The `workflow-npm-credentials` hook: main(argv) in-process, and real `pre-commit try-repo`."""

from __future__ import annotations

from pathlib import Path

import pytest
from npmrc_samples import git, write
from precommit_support import scratch_repo, try_repo

from npm_guard.hooks.workflow_npm_credentials import main

HOOK_ID = "workflow-npm-credentials"
TOKEN = "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"

BAD = """\
on:
  push:
    tags: ["v*"]
jobs:
  release:
    runs-on: ubuntu-latest
    env:
      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
    steps:
      - run: npm ci
      - run: npm publish
"""
GOOD = """\
on:
  push:
    tags: ["v*"]
permissions:
  contents: read
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm ci
      - run: npm publish
"""
WARNING_ONLY = """\
on: workflow_dispatch
jobs:
  token:
    runs-on: ubuntu-latest
    steps:
      - run: npm token create --packages-and-scopes-permission read-only --cidr 203.0.113.0/24
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_bad_workflow_fails_and_names_the_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / ".github/workflows/release.yml", BAD)
    assert main([".github/workflows/release.yml"]) == 1
    out = capsys.readouterr().out
    assert ".github/workflows/release.yml:8:7: error [workflow-token-overexposed]" in out
    assert (
        ".github/workflows/release.yml:11:14: error [workflow-publish-with-long-lived-token]" in out
    )
    assert "\n    tip: " in out


def test_good_workflow_passes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / ".github/workflows/release.yml", GOOD)
    assert main([".github/workflows/release.yml"]) == 0
    assert "no findings" in capsys.readouterr().out


def test_fail_on_decides_about_warnings(project: Path) -> None:
    write(project / ".github/workflows/token.yml", WARNING_ONLY)
    assert main([".github/workflows/token.yml"]) == 0
    assert main(["--fail-on", "warning", ".github/workflows/token.yml"]) == 1


def test_no_ignores_shows_silenced_findings(project: Path) -> None:
    silenced = BAD.replace(
        "${{ secrets.NPM_TOKEN }}",
        "${{ secrets.NPM_TOKEN }}  # npm-guard: ignore[workflow-token-overexposed] reviewed",
    ).replace("npm publish", "npm stage publish")
    write(project / ".github/workflows/release.yml", silenced)
    assert main([".github/workflows/release.yml"]) == 0
    assert main(["--no-ignores", ".github/workflows/release.yml"]) == 1


def test_composite_action_anywhere(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        project / "actions/publish/action.yml",
        "name: p\ndescription: p\nruns:\n  using: composite\n  steps:\n"
        f"    - run: echo {TOKEN}\n      shell: bash\n",
    )
    assert main(["actions/publish/action.yml"]) == 1
    out = capsys.readouterr().out
    assert "actions/publish/action.yml:6:17: error [workflow-plaintext-credential]" in out
    assert TOKEN not in out


def test_no_files_is_clean(project: Path) -> None:
    assert main([]) == 0


# --- real pre-commit -----------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return scratch_repo(tmp_path)


@pytest.mark.slow
def test_try_repo_fails_a_bad_workflow(scratch: Path, pre_commit_home: Path) -> None:
    write(scratch / ".github/workflows/release.yml", BAD)
    write(scratch / "docs/not-a-workflow.yml", BAD)  # the hook's files: pattern skips it
    git(scratch, "add", ".")
    proc = try_repo(scratch, pre_commit_home, HOOK_ID)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        ".github/workflows/release.yml:11:14: error [workflow-publish-with-long-lived-token]"
        in (proc.stdout)
    )
    assert "docs/not-a-workflow.yml" not in proc.stdout


@pytest.mark.slow
def test_try_repo_passes_a_good_workflow_and_action(scratch: Path, pre_commit_home: Path) -> None:
    write(scratch / ".github/workflows/release.yml", GOOD)
    write(
        scratch / "actions/setup/action.yml",
        "name: s\ndescription: s\nruns:\n  using: composite\n  steps:\n"
        "    - run: npm ci --ignore-scripts\n      shell: bash\n",
    )
    git(scratch, "add", ".")
    proc = try_repo(scratch, pre_commit_home, HOOK_ID)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout
