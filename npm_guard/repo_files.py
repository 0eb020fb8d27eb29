"""The one way npm-guard reads files of the repository it checks.

Everything the scan reads goes through here: the files it scans, and the files the
workflow engine consults (`package.json`, `.npmrc`, local scripts, called workflows,
`pnpm-workspace.yaml`). A file is read only when it is a regular file, below the size
cap, and (for `RepositoryFiles`) inside the repository after every symbolic link is
resolved; FIFOs, devices, sockets and links out of the tree are refused without being
opened for more than an instant, so a hostile checkout can neither hang nor leak a scan.
"""

from __future__ import annotations

import os
import stat

from npm_guard._record import dataclass

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    Parsed = TypeVar("Parsed")

# Real .npmrc and workflow files are a few KB; past this they are not parsed, only
# searched for tokens in bounded chunks (so a 100 MB file costs time, not memory).
MAX_PARSE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class FileText:
    """A file's text as npm would read it, or the reason it cannot be parsed."""

    text: str | None
    problem: str | None = None
    token_search: bool = False  # unparseable, but its bytes are still searched for tokens
    missing: bool = False  # nothing there at all (not even a dangling link)


# A FIFO opens at once with O_NONBLOCK (then fstat refuses it) instead of waiting for a
# writer; O_NOFOLLOW refuses a final component swapped for a symlink after it was checked.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_BINARY", 0)
)
_NOT_REGULAR = "not a regular file (FIFO, socket or device); not read"


def _open_regular(path: str, *, resolved: bool = False) -> tuple[int, int] | str:
    """(file descriptor, size) of the regular file `path` leads to, or the problem.

    A final-component symlink is resolved first (discovery already checked where it
    leads; `resolved`: `path` is what discovery resolved, so it is not resolved again);
    the file is then opened without following links, and what was opened is checked
    with fstat, so a file swapped for a FIFO, device or link after the checks is
    refused, not read. The stat before opening keeps devices from being opened at all.
    """
    real = path if resolved else os.path.realpath(path)
    try:
        info = os.stat(real)
    except OSError as error:
        return f"cannot read ({error.strerror or error})"
    if stat.S_ISDIR(info.st_mode):
        return "it is a directory, not a file"
    if not stat.S_ISREG(info.st_mode):
        return _NOT_REGULAR
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as error:
        return f"cannot read ({error.strerror or error})"
    try:
        opened = os.fstat(fd)
    except OSError as error:
        os.close(fd)
        return f"cannot read ({error.strerror or error})"
    if not stat.S_ISREG(opened.st_mode):
        os.close(fd)
        return "it is a directory, not a file" if stat.S_ISDIR(opened.st_mode) else _NOT_REGULAR
    return fd, opened.st_size


def read_text(path: str, max_bytes: int = MAX_PARSE_BYTES, *, resolved: bool = False) -> FileText:
    """Read a small regular file as UTF-8, refusing what is not a text config file.

    Never blocks on FIFOs or devices, also when one replaces the file mid-scan.
    `resolved`: `path` has no symbolic link in it (`os.path.realpath` made it).
    """
    opened = _open_regular(path, resolved=resolved)
    if isinstance(opened, str):
        return FileText(None, opened, missing=not os.path.lexists(path))
    fd, size = opened
    with os.fdopen(fd, "rb") as handle:
        if size > max_bytes:
            return FileText(
                None,
                _too_large(size, max_bytes),
                token_search=True,
            )
        try:
            data = handle.read(max_bytes + 1)
        except OSError as error:
            return FileText(None, f"cannot read ({error.strerror or error})")
    if b"\0" in data[:8192]:
        return FileText(
            None, "binary file (contains NUL bytes); searched for tokens only", token_search=True
        )
    try:
        return FileText(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        # npm itself reads the file with replacement characters: scan what it would see.
        return FileText(
            data.decode("utf-8", errors="replace"),
            f"not valid UTF-8 (first bad byte at offset {error.start})",
        )


def _too_large(size: int, limit: int) -> str:
    if limit >= 1048576:
        return (
            f"file too large to parse ({size / 1048576:.1f} MiB; limit "
            f"{limit // 1048576} MiB); searched for tokens only"
        )
    return f"file too large to read ({size} bytes; limit {limit} bytes)"


def json_object(text: str | None) -> dict[str, object] | None:
    """A JSON file's text (package.json and the like) as one object, a leading BOM
    dropped as npm drops it; None when there is no text or it is not one JSON object
    (also when it nests too deeply to parse)."""
    if text is None:
        return None
    import json  # only here: most runs never meet a JSON file

    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


class RepositoryFiles:
    """Read-only access to one repository's files, for the rules' context.

    Paths are taken relative to `root` (or absolute); a path that leads outside the
    repository once links are resolved, or that is not a regular file, reads as a
    problem, never as content. What was read is remembered for the rest of the scan, so
    twenty workflows that consult one `package.json` read it once, and what was made of
    it (`parsed`) is remembered too, so they parse it once.
    """

    def __init__(self, root: str | None) -> None:
        self.root = os.path.realpath(root) if root is not None else None
        self._texts: dict[str, FileText] = {}  # by resolved path
        self._asked: dict[tuple[str, int], FileText] = {}  # by the path as asked
        self._parsed: dict[tuple[object, str, int], object] = {}

    def real_path(self, path: str) -> str | None:
        """The resolved path of `path` when it is inside the repository, else None."""
        if self.root is None:
            return None
        joined = path if os.path.isabs(path) else os.path.join(self.root, path)
        real = os.path.realpath(joined)
        if real != self.root and not real.startswith(self.root.rstrip(os.sep) + os.sep):
            return None
        return real

    def read(self, path: str, max_bytes: int = MAX_PARSE_BYTES) -> FileText:
        """`path`'s text, or why it was not read (outside the repository, not a regular
        file, larger than `max_bytes`, unreadable)."""
        # Asked again (every workflow asks for the root .npmrc and package.json): the
        # answer of the first time, without resolving the path's links once more.
        asked = self._asked.get((path, max_bytes))
        if asked is not None:
            return asked
        real = self.real_path(path)
        if real is None:
            found = FileText(None, "outside the repository; not read")
        else:
            key = f"{max_bytes}:{real}"
            cached = self._texts.get(key)
            if cached is None:
                cached = read_text(real, max_bytes, resolved=True)
                self._texts[key] = cached
            found = cached
        self._asked[(path, max_bytes)] = found
        return found

    def parsed(self, path: str, max_bytes: int, parse: Callable[[str, FileText], Parsed]) -> Parsed:
        """`parse(path, read(path, max_bytes))`, worked out once per scan.

        `parse` must depend on nothing but its arguments (it is part of the key, so a
        module-level function), and what it returns must not be changed by its users:
        every workflow of the scan gets the same object.
        """
        key = (parse, path, max_bytes)
        if key in self._parsed:
            return self._parsed[key]  # type: ignore[return-value]
        value = parse(path, self.read(path, max_bytes))
        self._parsed[key] = value
        return value

    def text(self, path: str, max_bytes: int = MAX_PARSE_BYTES) -> str | None:
        """`path`'s text when it could be read whole (invalid UTF-8 replaced), else None."""
        return self.read(path, max_bytes).text

    def glob(self, pattern: str) -> list[str]:
        """Paths matching the glob `pattern` (relative to the root, `/`-separated), sorted,
        relative to the root; those that lead outside the repository are left out."""
        if self.root is None or os.path.isabs(pattern) or ".." in pattern.split("/"):
            return []
        import glob  # only here: only workspaces use it

        found = []
        for match in sorted(glob.glob(os.path.join(self.root, pattern))):
            if self.real_path(match) is not None:
                found.append(os.path.relpath(match, self.root).replace(os.sep, "/"))
        return found

    def is_file(self, path: str) -> bool:
        """A regular file inside the repository (checked without opening it)."""
        real = self.real_path(path)
        if real is None:
            return False
        try:
            return stat.S_ISREG(os.stat(real).st_mode)
        except OSError:
            return False

    def is_dir(self, path: str) -> bool:
        """A directory inside the repository."""
        real = self.real_path(path)
        if real is None:
            return False
        try:
            return stat.S_ISDIR(os.stat(real).st_mode)
        except OSError:
            return False
