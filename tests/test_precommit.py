"""The hook end to end through real pre-commit: `pre-commit try-repo` of this repository.

pre-commit builds the hook's virtual environment from this checkout with pip (PyPI is
needed for the dependencies, once per test session: PRE_COMMIT_HOME is shared by the
tests of one session), then runs it on the files staged in a scratch git repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from npmrc_samples import NPM_TOKEN, git, redacted, write
from precommit_support import scratch_repo, try_repo

HOOK_ID = "npmrc-credentials"

pytestmark = pytest.mark.slow


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return scratch_repo(tmp_path)


def test_staged_bad_npmrc_fails_and_names_the_line(scratch: Path, pre_commit_home: Path) -> None:
    write(
        scratch / ".npmrc",
        f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={NPM_TOKEN}\n",
    )
    git(scratch, "add", ".npmrc")
    proc = try_repo(scratch, pre_commit_home, HOOK_ID, ".npmrc")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "npm credentials in .npmrc" in output
    assert "Failed" in output
    assert "- hook id: npmrc-credentials" in output and "- exit code: 1" in output
    assert ".npmrc:2:34: error [npmrc-plaintext-credential]" in output
    assert redacted(NPM_TOKEN) in output
    assert NPM_TOKEN not in output


def test_staged_good_npmrc_passes(scratch: Path, pre_commit_home: Path) -> None:
    write(
        scratch / "packages" / "app" / ".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"
    )
    git(scratch, "add", "packages/app/.npmrc")
    proc = try_repo(scratch, pre_commit_home, HOOK_ID, "packages/app/.npmrc")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "npm credentials in .npmrc" in output
    assert "Passed" in output


def test_files_that_are_not_npmrc_are_not_given_to_the_hook(
    scratch: Path, pre_commit_home: Path
) -> None:
    write(scratch / "ci.npmrc.example", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    git(scratch, "add", "ci.npmrc.example")
    proc = try_repo(scratch, pre_commit_home, HOOK_ID, "ci.npmrc.example")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "(no files to check)Skipped" in output


POLICY_HOOK_ID = "npm-guard-policy"


def test_staged_invalid_policy_fails_and_names_the_line(
    scratch: Path, pre_commit_home: Path
) -> None:
    write(scratch / ".npm-guard.yml", "version: 1\nrules:\n  npmrc-plaintext-credentail: off\n")
    git(scratch, "add", ".npm-guard.yml")
    proc = try_repo(scratch, pre_commit_home, POLICY_HOOK_ID)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "npm-guard policy file" in output and "Failed" in output
    assert "- hook id: npm-guard-policy" in output and "- exit code: 1" in output
    assert (
        ".npm-guard.yml:3: rules.npmrc-plaintext-credentail: unknown rule id "
        "'npmrc-plaintext-credentail'; did you mean 'npmrc-plaintext-credential'?"
    ) in output


def test_staged_valid_policy_passes(scratch: Path, pre_commit_home: Path) -> None:
    write(scratch / ".npm-guard.yml", "version: 1\nrules:\n  npmrc-insecure-registry: off\n")
    write(scratch / "sub" / ".npm-guard.yml", "not: [a policy\n")  # not read: not checked
    git(scratch, "add", ".npm-guard.yml", "sub/.npm-guard.yml")
    proc = try_repo(scratch, pre_commit_home, POLICY_HOOK_ID)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "npm-guard policy file" in output and "Passed" in output


@pytest.mark.slow
def test_the_repository_passes_its_own_hooks(tmp_path: Path, pre_commit_home: Path) -> None:
    """`pre-commit run --all-files` with .pre-commit-config.yaml on a copy of this checkout."""
    import shutil
    import subprocess
    import sys

    from precommit_support import REPO, pre_commit_env

    copy = tmp_path / "npm-guard"
    tracked = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, tracked.split("\0")):
        source = REPO / name
        if source.is_file() and not source.is_symlink():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=copy,
        env=pre_commit_env(pre_commit_home),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = {
        name: [ln for ln in proc.stdout.splitlines() if name in ln]
        for name in ("npm credentials in .npmrc", "GitHub Actions workflows", "policy file")
    }
    # The repository has workflows, action.yml and a policy file; no .npmrc (yet).
    assert [ln.rsplit(".", 1)[-1] for lines in results.values() for ln in lines] == [
        "(no files to check)Skipped",
        "Passed",
        "Passed",
    ], proc.stdout


# Before the first release (README, "pre-commit hooks") ----------------------------------


def test_autoupdate_freeze_pins_a_commit_while_there_is_no_release(
    tmp_path: Path, pre_commit_home: Path
) -> None:
    """The README's advice works: with the template's `rev: v0.1.0` (a tag that does not
    exist), `pre-commit autoupdate --freeze` writes the SHA of the newest commit."""
    import subprocess
    import sys

    from precommit_support import REPO, pre_commit_env

    upstream = tmp_path / "npm-guard.git"
    git(tmp_path, "clone", "-q", "--bare", "--no-tags", str(REPO), str(upstream))
    assert git(upstream, "tag", "--list") == ""
    head = git(upstream, "rev-parse", "HEAD").strip()
    project = scratch_repo(tmp_path)
    template = (REPO / "templates" / "pre-commit-config.yaml").read_text("utf-8")
    assert "rev: v0.1.0" in template
    config = template.replace("https://github.com/npm-guard/npm-guard", str(upstream))
    write(project / ".pre-commit-config.yaml", config)
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "autoupdate", "--freeze", "--repo", str(upstream)],
        cwd=project,
        env=pre_commit_env(pre_commit_home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pinned = (project / ".pre-commit-config.yaml").read_text("utf-8")
    assert f"    rev: {head}" in pinned.splitlines()
    assert "rev: v0.1.0" not in pinned


def test_try_repo_checks_staged_files_only(scratch: Path, pre_commit_home: Path) -> None:
    """The README says to stage files first: an unstaged .npmrc is not looked at."""
    write(scratch / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    proc = try_repo(scratch, pre_commit_home, HOOK_ID)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(no files to check)Skipped" in proc.stdout
    git(scratch, "add", ".npmrc")
    proc = try_repo(scratch, pre_commit_home, HOOK_ID)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "[npmrc-plaintext-credential]" in proc.stdout
