"""Where a scan is rooted, and how it shows the paths it reports."""

from __future__ import annotations

import os
from collections.abc import Sequence


def find_root(paths: Sequence[str]) -> str:
    """The repository root a scan of `paths` belongs to (absolute).

    The top of the git work tree holding the first path (the nearest directory at or
    above it with a `.git`); outside git the first path itself when it is a directory,
    else the current directory. The policy file is looked up there, package.json
    scripts resolve from there, file kinds are judged and paths shown relative to it.
    No git command runs: looking for `.git` costs a few stat calls.
    """
    from npm_guard.file_kinds import is_npmrc_path

    first = paths[0] if paths else os.curdir
    walked = os.path.isdir(first) and not os.path.islink(first) and not is_npmrc_path(first)
    start = os.path.abspath(first if walked else os.path.dirname(first) or os.curdir)
    directory = start
    while True:
        if os.path.lexists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return start if walked else os.path.abspath(os.curdir)


def display_path(path: str, root: str) -> str:
    """`path` relative to `root` with forward slashes, or absolute when outside it."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, os.path.abspath(root))
    except ValueError:
        return absolute.replace(os.sep, "/")
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return absolute.replace(os.sep, "/")
    return relative.replace(os.sep, "/")


def is_inside(path: str, directory: str) -> bool:
    """`path` is `directory` or below it; both already resolved by `os.path.realpath`."""
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # different drives on Windows
        return False
