"""Whether git history holds a value: what `--fix` tells about a token it replaced.

Only the commits that changed the file are read, each version of the file through one
`git cat-file --batch`; the value is searched for here, never passed to git (a command
line is visible to every user of the machine). Like every git command npm-guard runs,
these run with `core.fsmonitor` off: the scanned repository's config must not make
npm-guard run a program.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    import subprocess

IN_HISTORY = "in history"  # a commit (on any ref, the stash included) has the value
NOT_COMMITTED = "not committed"  # the file's committed versions do not have it
NO_GIT = "no git"  # the file is not in a git work tree
UNKNOWN = "unknown"  # git could not tell (not installed, an error, too much history)

MAX_COMMITS = 1000


def history_of(path: str, values: Sequence[str]) -> dict[str, str]:
    """For each of `values`: IN_HISTORY, NOT_COMMITTED, NO_GIT or UNKNOWN, as the
    history of the file at `path` shows it."""
    state = _history_of(path, values)
    if isinstance(state, str):
        return dict.fromkeys(values, state)
    return state


def _history_of(path: str, values: Sequence[str]) -> dict[str, str] | str:
    real = os.path.realpath(path)
    directory = os.path.dirname(real)
    top = _run(directory, "rev-parse", "--show-toplevel")
    if top is None:
        return UNKNOWN  # git is not there, or did not answer
    if top.returncode != 0:
        return NO_GIT if b"not a git repository" in top.stderr else UNKNOWN
    relative = os.path.relpath(real, os.fsdecode(top.stdout).strip()).replace(os.sep, "/")
    listed = _git(
        directory,
        "log",
        "--all",
        "--format=%H",
        f"--max-count={MAX_COMMITS + 1}",
        "--",
        f":(literal,top){relative}",
    )
    if listed is None:
        return UNKNOWN
    commits = listed.decode("ascii", "replace").split()
    if not commits:
        return NOT_COMMITTED
    blobs = _versions(directory, commits[:MAX_COMMITS], relative)
    if blobs is None:
        return UNKNOWN
    found = {
        v: IN_HISTORY if any(v.encode() in b for b in blobs) else NOT_COMMITTED for v in values
    }
    if len(commits) > MAX_COMMITS:  # not every version was read: absence is not proven
        found = {v: s if s == IN_HISTORY else UNKNOWN for v, s in found.items()}
    return found


def _versions(directory: str, commits: Sequence[str], relative: str) -> list[bytes] | None:
    """The file's content at each commit (missing where a commit deleted it)."""
    request = "".join(f"{commit}:{relative}\n" for commit in commits).encode()
    out = _git(directory, "cat-file", "--batch", stdin=request)
    if out is None:
        return None
    blobs = []
    position = 0
    while position < len(out):
        end = out.index(b"\n", position)
        header = out[position:end].split()
        position = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            blobs.append(out[position : position + size])
            position += size + 1
        elif len(header) == 3:  # another kind of object (a submodule at that path)
            position += int(header[2]) + 1
    return blobs


def _git(directory: str, *args: str, stdin: bytes | None = None) -> bytes | None:
    proc = _run(directory, *args, stdin=stdin)
    return proc.stdout if proc is not None and proc.returncode == 0 else None


def _run(
    directory: str, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes] | None:
    import subprocess

    try:
        return subprocess.run(
            ["git", "-c", "core.fsmonitor=false", "-C", directory, *args],
            input=stdin,
            capture_output=True,
            check=False,
            timeout=60,
            # Untranslated messages; no lock taken on the index for a read.
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
