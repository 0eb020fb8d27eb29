"""Running this checkout's hooks through real pre-commit (`pre-commit try-repo`).

pre-commit builds the hooks' virtual environment from this checkout with pip (PyPI is
needed for the dependencies once per test session: the `pre_commit_home` fixture in
conftest.py is shared by every test of the session), then runs a hook on the files
staged in a scratch git repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from npmrc_samples import git, write

REPO = Path(__file__).resolve().parent.parent


def pre_commit_env(home: Path) -> dict[str, str]:
    """The environment without the caller's git and pre-commit settings."""
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


def scratch_repo(directory: Path) -> Path:
    """A new git repository with one commit, where tests stage files for the hooks."""
    repo = directory / "scratch"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "tests@npm-guard.invalid")
    git(repo, "config", "user.name", "npm-guard tests")
    write(repo / "README.md", "scratch\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def try_repo(repo: Path, home: Path, hook_id: str, *files: str) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo` of this checkout: on `files`, or on everything staged."""
    command = [
        sys.executable,
        "-m",
        "pre_commit",
        "try-repo",
        str(REPO),
        hook_id,
        "--color",
        "never",
        "--verbose",
    ]
    if files:
        command += ["--files", *files]
    return subprocess.run(
        command,
        cwd=repo,
        env=pre_commit_env(home),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
