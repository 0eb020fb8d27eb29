"""Which GitHub repository the trusted publisher names: `owner/repo`.

From `--repository`, else `GITHUB_REPOSITORY` (set inside GitHub Actions), else the
`origin` remote of the repository's git configuration, in its https or ssh form. npm
takes exactly `owner/repo` (`npm trust github`: "must be specified in the format
owner/repository", lib/commands/trust/github.js in npm 12.2.3).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from npm_guard.errors import NpmGuardError

_OWNER_REPO_RE = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)$")
# https://github.com/o/r(.git), ssh://git@github.com[:22]/o/r(.git), git@github.com:o/r(.git),
# git://github.com/o/r, with optional credentials before the host (never kept).
_REMOTE_RES = (
    re.compile(
        r"^(?:https?|git|ssh|git\+ssh)://(?:[^@/]+@)?github\.com(?::[0-9]+)?/"
        r"([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)/?$"
    ),
    re.compile(r"^(?:[^@/]+@)?github\.com:([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)/?$"),
)


def owner_repository(text: str) -> str | None:
    """`owner/repo` when `text` is exactly that (a `.git` suffix is dropped)."""
    match = _OWNER_REPO_RE.match(text.strip())
    if match is None:
        return None
    owner, repo = match.group(1), match.group(2).removesuffix(".git")
    if not repo or owner in (".", "..") or repo in (".", ".."):
        return None
    return f"{owner}/{repo}"


def from_remote_url(url: str) -> str | None:
    """`owner/repo` of a github.com remote URL (https or ssh form), else None."""
    text = url.strip()
    for pattern in _REMOTE_RES:
        match = pattern.match(text)
        if match is not None:
            return owner_repository(f"{match.group(1)}/{match.group(2)}")
    return None


def find_repository(
    given: str | None, environ: Mapping[str, str], root: str
) -> tuple[str | None, str | None]:
    """(owner/repo, where it came from); (None, None) when nothing says.

    A `--repository` that is not `owner/repo` is an error (exit 2), not a guess.
    """
    if given is not None:
        found = owner_repository(given)
        if found is None:
            raise NpmGuardError(f"--repository: {given!r} is not OWNER/REPO")
        return found, "--repository"
    from_env = owner_repository(environ.get("GITHUB_REPOSITORY", ""))
    if from_env is not None:
        return from_env, "GITHUB_REPOSITORY"
    url = _origin_url(root)
    if url is not None:
        found = from_remote_url(url)
        if found is not None:
            return found, "the origin remote"
    return None, None


def _origin_url(root: str) -> str | None:
    """`remote.origin.url` of the repository at `root` (git runs nothing for this)."""
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "-C", root, "config", "--get", "remote.origin.url"],
            capture_output=True,
            check=False,
            timeout=30,
            env={**os.environ, "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", "replace").strip() or None
