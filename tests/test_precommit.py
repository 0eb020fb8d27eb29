"""The hook end to end through real pre-commit: `pre-commit try-repo` of this repository.

pre-commit builds the hook's virtual environment from this checkout with pip (PyPI is
needed for the dependencies, once per test session: PRE_COMMIT_HOME is shared by the
tests of one session), then runs it on the files staged in a scratch git repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from npmrc_samples import NPM_TOKEN, git, redacted, write

REPO = Path(__file__).resolve().parent.parent
HOOK_ID = "npmrc-credentials"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    yield home
    shutil.rmtree(home, ignore_errors=True)


def _env(home: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PRE_COMMIT", "GIT_", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    env.update(
        PRE_COMMIT_HOME=str(home),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="npm-guard tests",
        GIT_AUTHOR_EMAIL="tests@npm-guard.invalid",
        GIT_COMMITTER_NAME="npm-guard tests",
        GIT_COMMITTER_EMAIL="tests@npm-guard.invalid",
        NO_COLOR="1",
    )
    return env


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    repo = tmp_path / "scratch"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "tests@npm-guard.invalid")
    git(repo, "config", "user.name", "npm-guard tests")
    write(repo / "README.md", "scratch\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def try_repo(repo: Path, home: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(REPO),
            HOOK_ID,
            "--color",
            "never",
            "--verbose",
            "--files",
            *files,
        ],
        cwd=repo,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_staged_bad_npmrc_fails_and_names_the_line(scratch: Path, pre_commit_home: Path) -> None:
    write(
        scratch / ".npmrc",
        f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={NPM_TOKEN}\n",
    )
    git(scratch, "add", ".npmrc")
    proc = try_repo(scratch, pre_commit_home, ".npmrc")
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
    proc = try_repo(scratch, pre_commit_home, "packages/app/.npmrc")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "npm credentials in .npmrc" in output
    assert "Passed" in output


def test_files_that_are_not_npmrc_are_not_given_to_the_hook(
    scratch: Path, pre_commit_home: Path
) -> None:
    write(scratch / "ci.npmrc.example", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    git(scratch, "add", "ci.npmrc.example")
    proc = try_repo(scratch, pre_commit_home, "ci.npmrc.example")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "(no files to check)Skipped" in output
