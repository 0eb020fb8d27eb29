"""The files a workflow makes the engine read: hostile ones never hang the hook.

A workflow step `npm run release` makes the engine read `package.json`; the repository's
`.npmrc`, `pnpm-workspace.yaml`, local scripts and called workflows are read too. Each is
read through the scan's one hardened reader: a FIFO or a link to `/dev/zero` in their
place is refused at once, the refusal is a `parse-error` on the line that needed the
file (what that step does could not be known), and the workflow's other findings are
still reported. The hook runs in a subprocess with a timeout, so a regression fails
instead of blocking the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")

RELEASE = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    env:
      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
    steps:
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm ci
      - run: npm run release
      - run: bash scripts/release.sh
      - run: pnpm -r run release
      - run: npm publish
  call:
    uses: ./.github/workflows/called.yml
    secrets: inherit
"""
NOT_REGULAR = "not a regular file (FIFO, socket or device); not read"
OUTSIDE = "outside the repository; not read"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".github" / "workflows" / "release.yml", RELEASE)
    return tmp_path


def run_hook(repo: Path) -> tuple[int, list[dict[str, Any]]]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "npm_guard.hooks.workflow_npm_credentials",
            "--format",
            "json",
            ".github/workflows/release.yml",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails the test instead of blocking the suite
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def summary(findings: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return [(f["rule"], f["location"]["line"], f["message"]) for f in findings]


def assert_workflow_findings_still_reported(findings: list[dict[str, Any]]) -> None:
    rules = {(f["rule"], f["location"]["line"]) for f in findings}
    assert ("workflow-token-overexposed", 6) in rules  # `npm ci` sees the job's token
    assert ("workflow-publish-with-long-lived-token", 15) in rules


@pytest.mark.parametrize(
    ("name", "line", "purpose"),
    [
        ("package.json", 12, "to follow `npm run release`"),
        ("scripts/release.sh", 13, "to follow `bash scripts/release.sh`"),
        ("pnpm-workspace.yaml", 14, "to follow `pnpm run release`"),
        (".github/workflows/called.yml", 18, "to know which secrets it uses"),
    ],
)
def test_a_fifo_the_workflow_makes_the_engine_read(
    repo: Path, name: str, line: int, purpose: str
) -> None:
    if name != "package.json":  # `npm run` and `pnpm -r` need one to get that far
        write(repo / "package.json", '{"name": "x", "scripts": {"release": "echo"}}')
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(repo / name)
    code, findings = run_hook(repo)
    assert code == 1
    assert (
        "parse-error",
        line,
        f"could not read {name} {purpose}: {NOT_REGULAR}",
    ) in summary(findings)
    assert [f["rule"] for f in findings].count("parse-error") == 1
    assert_workflow_findings_still_reported(findings)


def test_an_npmrc_linked_to_dev_zero(repo: Path) -> None:
    os.symlink("/dev/zero", repo / ".npmrc")
    code, findings = run_hook(repo)
    assert code == 1
    message = f"could not read .npmrc to know which variables `npm publish` reads: {OUTSIDE}"
    assert ("parse-error", 15, message) in summary(findings)
    assert_workflow_findings_still_reported(findings)


def test_a_fifo_npmrc_and_package_json_at_once(repo: Path) -> None:
    os.mkfifo(repo / ".npmrc")
    os.mkfifo(repo / "package.json")
    code, findings = run_hook(repo)
    assert code == 1
    unread = sorted(f["message"] for f in findings if f["rule"] == "parse-error")
    assert unread == [
        f"could not read .npmrc to know which variables `npm publish` reads: {NOT_REGULAR}",
        f"could not read package.json to follow `npm run release`: {NOT_REGULAR}",
    ]
    assert_workflow_findings_still_reported(findings)


def test_files_that_are_simply_absent_are_no_problem(repo: Path) -> None:
    """No package.json, no script, no called workflow: nothing to resolve, no error."""
    code, findings = run_hook(repo)
    assert code == 1
    assert "parse-error" not in [f["rule"] for f in findings]
    assert_workflow_findings_still_reported(findings)


def test_a_package_json_linked_out_of_the_repository(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Not followed: what is outside the repository is not the repository's scripts."""
    outside = tmp_path_factory.mktemp("outside") / "package.json"
    outside.write_text('{"scripts": {"release": "npm publish"}}', encoding="utf-8")
    os.symlink(outside, repo / "package.json")
    code, findings = run_hook(repo)
    assert code == 1
    assert (
        "parse-error",
        12,
        f"could not read package.json to follow `npm run release`: {OUTSIDE}",
    ) in summary(findings)
    # Only the visible `npm publish` publishes: the outside script was not read.
    publishes = [f for f in findings if f["rule"] == "workflow-publish-with-long-lived-token"]
    assert [f["location"]["line"] for f in publishes] == [15]
