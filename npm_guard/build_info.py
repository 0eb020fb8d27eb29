"""What this copy of npm-guard is: its version and the commit it was built from.

A built package (wheel, sdist, an install from either) carries `npm_guard/_build_info.py`,
written by `setup.py` at build time with the commit of the checkout it was built from.
An editable install of a git checkout has no such file: `npm-guard --version` asks git
for the checkout's current commit, and says that it is one. Only `--version` reads any
of this, so no git command ever runs when a hook starts.
"""

from __future__ import annotations

import os

from npm_guard import __version__
from npm_guard._record import dataclass

BUILT = "built"  # recorded at build time
CHECKOUT = "checkout"  # read from the git checkout the package is imported from
UNKNOWN = "unknown"  # neither: built outside git, or git could not tell


@dataclass(frozen=True)
class BuildInfo:
    version: str
    commit: str | None  # the full SHA, or None when unknown
    origin: str  # BUILT, CHECKOUT or UNKNOWN
    modified: bool = False  # built from, or running in, a checkout with uncommitted changes

    def describe(self) -> str:
        """`npm-guard 0.1.0 (commit 0123…)`: one line for `--version`."""
        if self.commit is None:
            where = "commit unknown"
            if self.origin == CHECKOUT:
                where += ", development checkout"
            return f"npm-guard {self.version} ({where})"
        notes = [f"commit {self.commit}"]
        if self.origin == CHECKOUT:
            notes.append("development checkout")
        if self.modified:
            notes.append("with uncommitted changes")
        return f"npm-guard {self.version} ({', '.join(notes)})"


def build_info() -> BuildInfo:
    """The recorded build, else the checkout the package runs from, else unknown."""
    try:
        from npm_guard import _build_info  # type: ignore[attr-defined]
    except ImportError:
        pass
    else:
        commit = getattr(_build_info, "COMMIT", None)
        return BuildInfo(
            __version__,
            commit if isinstance(commit, str) and commit else None,
            BUILT,
            bool(getattr(_build_info, "MODIFIED", False)),
        )
    root = checkout_root()
    if root is None:
        return BuildInfo(__version__, None, UNKNOWN)
    state = checkout_state(root)
    if state is None:
        return BuildInfo(__version__, None, CHECKOUT)
    return BuildInfo(__version__, state[0], CHECKOUT, state[1])


def checkout_root() -> str | None:
    """The top of the source checkout this package is imported from: the directory
    above `npm_guard/` when it holds `.git` and `setup.py` (not a site-packages that
    happens to sit inside some other repository)."""
    package = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(package)
    if os.path.lexists(os.path.join(root, ".git")) and os.path.isfile(
        os.path.join(root, "setup.py")
    ):
        return root
    return None


def checkout_state(root: str) -> tuple[str, bool] | None:
    """(HEAD commit, whether tracked files differ from it) of the git work tree whose
    top is `root`; None when git is missing, fails, or its top is another directory.

    `core.fsmonitor` is off, as for every git command npm-guard runs: a checkout's own
    config must not make `--version` run a program.
    """
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or os.path.realpath(top) != os.path.realpath(root):
        return None
    commit = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    if not commit:
        return None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return commit, bool(status)


def _git(root: str, *args: str) -> str | None:
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "-c", "core.fsmonitor=false", "-C", root, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None
