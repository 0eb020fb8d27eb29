"""`workflow-npm-credentials` re-checks the workflows that depend on a staged file.

A commit that changes only package.json (so `npm run release` now publishes), the
`.npmrc`, the policy, `.yarnrc.yml` or a script a workflow runs changes what the
workflow does without touching it. The hook's `files:` takes those files too, and the
hook reports the workflows and composite actions whose analysis read one of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from npmrc_samples import git, write
from precommit_support import REPO, scratch_repo, try_repo

from npm_guard import scan as scanner
from npm_guard.file_kinds import classify, is_workflow_dependency
from npm_guard.hooks.workflow_npm_credentials import main

HOOK_ID = "workflow-npm-credentials"

RELEASE = """\
on:
  push:
    tags: ["v*"]
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm run release
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
"""
SCRIPTED = """\
on: workflow_dispatch
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: bash scripts/publish.sh
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
"""
TESTS = """\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "no npm here"
"""
PUBLISHES = '{"name": "pkg", "scripts": {"release": "npm publish"}}\n'
BUILDS = '{"name": "pkg", "scripts": {"release": "echo build only"}}\n'
PUBLISH_SCRIPT = (
    '#!/bin/sh\necho "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc\nnpm publish\n'
)


def _hook_regex() -> re.Pattern[str]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    (hook,) = [h for h in hooks if h["id"] == HOOK_ID]
    return re.compile(hook["files"])


# Which files are dependencies -----------------------------------------------------------

DEPENDENCIES = [
    "package.json",
    "packages/app/package.json",
    ".npmrc",
    "packages/app/.npmrc",
    ".npm-guard.yml",
    ".yarnrc.yml",
    "pnpm-workspace.yaml",
    ".nvmrc",
    ".node-version",
    ".tool-versions",
    "release.js",
    "publish.sh",
    "release.config.mjs",
    "scripts/release.js",
    "scripts/ci/publish.sh",
    "script/publish.cjs",
    ".github/scripts/publish.mjs",
    ".github/actions/release/index.ts",
    "bin/release.mts",
    "tools/publish.cts",
    "tool/publish.bash",
    "ci/release.sh",
    "release/publish.js",
    "packages/app/scripts/publish.js",
]
NOT_DEPENDENCIES = [
    "README.md",
    "src/index.ts",
    "src/cli.js",
    "lib/publish.js",
    "test/publish.test.js",
    "packages/app/src/index.ts",
    "package-lock.json",
    "docs/package.json.md",
    "scripts/README.md",
    "scripts/.sh",
]
WORKFLOWS = [".github/workflows/release.yml", "action.yml", "sub/dir/action.yaml"]


@pytest.mark.parametrize("path", DEPENDENCIES)
def test_a_dependency_is_one_by_name_and_the_hook_takes_it(path: str) -> None:
    assert is_workflow_dependency(path)
    assert classify(path) not in ("workflow", "action")
    assert _hook_regex().search(path), f"the hook's files: pattern misses {path}"


@pytest.mark.parametrize("path", NOT_DEPENDENCIES)
def test_an_ordinary_file_is_no_dependency_and_the_hook_skips_it(path: str) -> None:
    """Source files are not given to the hook: a commit of them starts nothing."""
    assert not is_workflow_dependency(path)
    assert not _hook_regex().search(path)


@pytest.mark.parametrize("path", WORKFLOWS)
def test_workflows_and_actions_are_scanned_themselves(path: str) -> None:
    assert not is_workflow_dependency(path)
    assert _hook_regex().search(path)


def test_the_npmrc_hook_still_takes_only_npmrc_files() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "npmrc-credentials"]
    assert hook["files"] == r"(^|/)\.npmrc$"


# The hook in process --------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "-q")
    write(tmp_path / ".github/workflows/release.yml", RELEASE)
    write(tmp_path / ".github/workflows/scripted.yml", SCRIPTED)
    write(tmp_path / ".github/workflows/tests.yml", TESTS)
    return tmp_path


def test_package_json_alone_reports_the_workflow_that_runs_its_script(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "package.json", PUBLISHES)
    assert main(["package.json"]) == 1
    out = capsys.readouterr().out
    assert (
        ".github/workflows/release.yml:12:14: error [workflow-publish-with-long-lived-token]"
        in (out)
    )
    assert "(runs `npm publish` via package.json scripts.release)" in out
    assert (
        "(re-checked because this commit changes package.json, which this workflow's "
        "analysis reads)" in out
    )
    # Only the workflows whose analysis read package.json.
    assert "scripted.yml" not in out and "tests.yml" not in out


def test_the_same_package_json_without_a_publish_passes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "package.json", BUILDS)
    assert main(["package.json"]) == 0
    assert "no findings (1 file scanned)" in capsys.readouterr().out


def test_a_script_a_workflow_runs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "scripts/publish.sh", PUBLISH_SCRIPT)
    assert main(["scripts/publish.sh"]) == 1
    out = capsys.readouterr().out
    assert ".github/workflows/scripted.yml:" in out
    assert "changes scripts/publish.sh, which this workflow's analysis reads" in out
    assert "release.yml" not in out and "tests.yml" not in out


def test_a_composite_action_that_depends_on_the_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project / ".github/actions/release/action.yml",
        "name: release\ndescription: r\nruns:\n  using: composite\n  steps:\n"
        "    - run: npm run release\n      shell: bash\n"
        "      env:\n        NODE_AUTH_TOKEN: ${{ inputs.token }}\n",
    )
    write(project / "package.json", PUBLISHES)
    main(["package.json"])
    out = capsys.readouterr().out
    assert ".github/actions/release/action.yml:" in out
    assert "re-checked because this commit changes package.json" in out


def test_the_policy_file_rechecks_every_workflow(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / ".npm-guard.yml", "version: 1\n")
    write(project / "package.json", PUBLISHES)
    write(project / "scripts/publish.sh", PUBLISH_SCRIPT)
    assert main([".npm-guard.yml"]) == 1
    out = capsys.readouterr().out
    assert ".github/workflows/release.yml:12:14: error" in out
    assert ".github/workflows/scripted.yml:" in out
    assert ".npm-guard.yml, the policy every workflow is checked against" in out
    assert "3 files scanned" in out


def test_a_staged_workflow_is_not_reported_twice(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "package.json", PUBLISHES)
    main([".github/workflows/release.yml", "package.json"])
    out = capsys.readouterr().out
    assert out.count("release.yml:12:14: error") == 1
    assert "re-checked because" not in out  # it is in the commit itself


def test_ignore_comments_and_policy_apply_to_rechecked_workflows(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project / ".github/workflows/release.yml",
        RELEASE.replace(
            "- run: npm run release",
            "- run: npm run release  # npm-guard: ignore[workflow-publish-with-long-lived-token] "
            "moving to OIDC",
        ),
    )
    write(project / "package.json", PUBLISHES)
    assert main(["package.json"]) == 0, capsys.readouterr().out


def test_no_dependency_no_discovery(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit of workflows only costs what it cost before: nothing is walked."""

    def walked(*args: object, **kwargs: object) -> None:
        raise AssertionError("the repository was walked")

    monkeypatch.setattr(scanner, "discover", walked)
    monkeypatch.setattr(scanner, "scan_dependents", walked)
    assert main([".github/workflows/tests.yml"]) == 0


def test_unreadable_dependents_do_not_stop_the_others(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A workflow that does not parse is not re-checked (it read nothing); the others are."""
    write(project / ".github/workflows/broken.yml", "on: [push\njobs: {")
    write(project / "package.json", PUBLISHES)
    assert main(["package.json"]) == 1
    out = capsys.readouterr().out
    assert "release.yml:12:14: error" in out
    assert "broken.yml" not in out


# Real pre-commit, only package.json staged ------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    repo = scratch_repo(tmp_path)
    write(repo / ".github/workflows/release.yml", RELEASE)
    write(repo / ".github/workflows/tests.yml", TESTS)
    write(repo / "package.json", BUILDS)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "workflows")
    return repo


@pytest.mark.slow
def test_try_repo_with_only_package_json_staged(scratch: Path, pre_commit_home: Path) -> None:
    write(scratch / "package.json", PUBLISHES)
    git(scratch, "add", "package.json")
    assert git(scratch, "diff", "--cached", "--name-only").split() == ["package.json"]
    proc = try_repo(scratch, pre_commit_home, HOOK_ID)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "- hook id: workflow-npm-credentials" in output and "Failed" in output
    assert (
        ".github/workflows/release.yml:12:14: error [workflow-publish-with-long-lived-token]"
        in output
    )
    assert "re-checked because this commit changes package.json" in output
    assert "tests.yml" not in output
    # The .npmrc hook is not given package.json.
    proc = try_repo(scratch, pre_commit_home, "npmrc-credentials")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(no files to check)Skipped" in proc.stdout


@pytest.mark.slow
def test_try_repo_with_an_ordinary_file_staged_skips_the_hook(
    scratch: Path, pre_commit_home: Path
) -> None:
    write(scratch / "src/index.ts", "export const x = 1;\n")
    write(scratch / "README.md", "changed\n")
    git(scratch, "add", ".")
    proc = try_repo(scratch, pre_commit_home, HOOK_ID)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(no files to check)Skipped" in proc.stdout


@pytest.mark.slow
def test_try_repo_with_a_workflow_and_package_json_staged_reports_once(
    scratch: Path, pre_commit_home: Path
) -> None:
    """pre-commit splits a hook's files across processes (one per CPU) unless the hook
    is `require_serial`: then the process given package.json would re-check the workflow
    another process was given, and the finding would show twice."""
    write(scratch / ".github/workflows/release.yml", RELEASE.replace("on:\n", "on: # v2\n", 1))
    write(scratch / "package.json", PUBLISHES)
    # Files every workflow's analysis reads, and enough workflows to fill partitions of
    # pre-commit's minimum size (4).
    write(scratch / ".npmrc", "//registry.npmjs.org/:_authToken=${NODE_AUTH_TOKEN}\n")
    write(scratch / ".yarnrc.yml", "nodeLinker: node-modules\n")
    for number in range(6):
        write(scratch / f".github/workflows/tests-{number}.yml", TESTS)
    git(scratch, "add", ".")
    proc = try_repo(scratch, pre_commit_home, HOOK_ID)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert output.count("[workflow-publish-with-long-lived-token]") == 1, output
    assert "re-checked because" not in output
