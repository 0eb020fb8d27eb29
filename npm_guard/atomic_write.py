"""Every file npm-guard writes is written here, and nowhere it did not mean to write.

- `replace_file()`: a whole file (the policy file `attest --write` edits, an `.npmrc`
  `--fix` rewrites, a `--output` report, a `--summary` file, a policy cache entry), in
  one step: a fresh temporary file is created in the target's directory with
  `O_CREAT | O_EXCL | O_NOFOLLOW` (so a file or symbolic link planted at any name is
  never opened, let alone written through), filled, flushed, given the mode of the
  file it replaces (or 0666 less the umask for a new one), then `os.replace()`d over
  the target: a reader sees the old file or the new one, never half of either.
- `append_file()`: the files the GitHub runner names and other commands of the same
  step also write (`$GITHUB_STEP_SUMMARY`, `$GITHUB_OUTPUT`): appended to, as GitHub
  asks, never replaced; opened without following a symbolic link in the last component
  and without blocking on a FIFO, and only when it is a regular file.
- `new_file()`: a file with a fresh random name in a directory (the Action's SARIF
  report in `$RUNNER_TEMP`), created exclusively.

Symbolic links. The repository is untrusted content: it can commit a link anywhere.
Every writer names its tree (the repository root for `attest`, `--fix`, `--output` and
`--summary` alike), and a link that lies inside the tree, anywhere on the path, must
lead inside the tree: otherwise the write is refused with an `NpmGuardError` (exit 2)
that names the link. Links outside the tree are the user's own (`/tmp` on macOS,
`/dev/stdout`) and are followed. A last-component link that stays in the tree is
followed: the file it leads to is replaced and the link stays a link. A target that
exists and is not a regular file (a terminal, a pipe, `/dev/null`) is written into as
`open()` would, unless it is inside the tree (a FIFO committed there would block).

Import-light (the policy cache, on the hooks' start-up path, uses it): os and stat only.
"""

from __future__ import annotations

import contextlib
import os
import stat

from npm_guard.errors import NpmGuardError
from npm_guard.paths import is_inside

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
REPOSITORY = "the repository"


def resolve_for_writing(path: str, tree: str | None, tree_name: str = REPOSITORY) -> str:
    """The real path a write of `path` lands on, checked against `tree`.

    Walks the path one component at a time, as the kernel would (a `..` after a link
    goes up from where the link leads). A symbolic link that lies inside `tree` and
    leads out of it raises NpmGuardError, naming the link and where it leads.
    """
    tree_real = os.path.realpath(tree) if tree is not None else None
    current = os.path.realpath(os.sep if os.path.isabs(path) else os.getcwd())
    for name in path.split(os.sep):
        if name in ("", os.curdir):
            continue
        if name == os.pardir:
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, name)
        if not os.path.islink(candidate):
            current = candidate
            continue
        leads_to = os.path.realpath(candidate)
        if (
            tree_real is not None
            and is_inside(current, tree_real)
            and not is_inside(leads_to, tree_real)
        ):
            raise NpmGuardError(
                f"refusing to write {path}: {candidate} is a symbolic link to {leads_to}, "
                f"outside {tree_name} ({tree_real}); remove the link, or name the file "
                f"it leads to"
            )
        current = leads_to
    return current


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def replace_file(
    path: str,
    data: bytes | str,
    *,
    tree: str | None,
    tree_name: str = REPOSITORY,
    what: str | None = None,
    durable: bool = True,
    new_mode: int | None = None,
) -> str:
    """Write `data` as the whole content of `path`, atomically; returns the real path
    written. `tree`: links inside it must stay inside it; None: a private file, where a
    link at the name itself is replaced, never followed.
    `what` names the file in errors (default: the path); `durable`: fsync before the
    rename (a cache entry need not be); `new_mode`: the mode of a file that did not
    exist (default: 0666 less the umask). Raises NpmGuardError."""
    shown = what or path
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if tree is None:  # a private file (the cache): a link at its name is replaced
        directory = os.path.dirname(os.path.abspath(path))
        target = os.path.join(os.path.realpath(directory), os.path.basename(path))
        info_of = os.lstat
    else:
        target = resolve_for_writing(path, tree, tree_name)
        info_of = os.stat
    try:
        info: os.stat_result | None = info_of(path)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise NpmGuardError(f"cannot write {shown}: {error.strerror}") from error
    if info is not None and stat.S_ISLNK(info.st_mode):
        info = None  # only lstat() says so (tree None): the link is replaced, as if absent
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise NpmGuardError(f"cannot write {shown}: it is a directory")
    if info is not None and not stat.S_ISREG(info.st_mode):
        if tree is None or is_inside(target, os.path.realpath(tree)):
            raise NpmGuardError(
                f"refusing to write {shown}: it is not a regular file (FIFO, socket or device)"
            )
        _write_into(path, payload, shown)
        return target
    if info is not None:
        mode = info.st_mode & 0o7777
    else:
        mode = new_mode if new_mode is not None else 0o666 & ~_umask()
    directory, name = os.path.split(target)
    try:
        _replace_in(directory, name, payload, mode, durable)
    except OSError as error:
        raise NpmGuardError(f"cannot write {shown}: {error.strerror or error}") from error
    return target


def _replace_in(directory: str, name: str, payload: bytes, mode: int, durable: bool) -> None:
    """A fresh temporary file beside `name` in `directory`, filled, then renamed over it."""
    dir_fd: int | None = None
    if os.open in os.supports_dir_fd and os.replace in os.supports_dir_fd:
        dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
    try:
        temporary, fd = _create_exclusive(directory, f".{name}.npm-guard-", ".tmp", dir_fd)
        try:
            try:
                _write_all(fd, payload)
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, mode)
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            if dir_fd is not None:
                os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            else:
                os.chmod(os.path.join(directory, temporary), mode)
                os.replace(os.path.join(directory, temporary), os.path.join(directory, name))
        except BaseException:
            with contextlib.suppress(OSError):
                if dir_fd is not None:
                    os.unlink(temporary, dir_fd=dir_fd)
                else:
                    os.unlink(os.path.join(directory, temporary))
            raise
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def _create_exclusive(
    directory: str, prefix: str, suffix: str, dir_fd: int | None
) -> tuple[str, int]:
    """(name, descriptor) of a new file, mode 0600, that did not exist a moment ago."""
    for _ in range(100):
        name = f"{prefix}{os.urandom(8).hex()}{suffix}"
        try:
            if dir_fd is not None:
                return name, os.open(name, _EXCLUSIVE, 0o600, dir_fd=dir_fd)
            return name, os.open(os.path.join(directory, name), _EXCLUSIVE, 0o600)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_into(path: str, payload: bytes, shown: str) -> None:
    """Write into a terminal, pipe or device outside the tree, as `open(path, "w")`
    would, except that a FIFO without a reader is an error instead of a wait."""
    try:
        fd = os.open(path, os.O_WRONLY | _NONBLOCK | _CLOEXEC | _BINARY)
    except OSError as error:
        raise NpmGuardError(f"cannot write {shown}: {error.strerror or error}") from error
    try:
        if _NONBLOCK and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        _write_all(fd, payload)
    except OSError as error:
        raise NpmGuardError(f"cannot write {shown}: {error.strerror or error}") from error
    finally:
        os.close(fd)


def append_file(path: str, text: str, *, what: str | None = None) -> None:
    """Append `text` to `path` (created if missing): never through a symbolic link as
    the last component, never blocking on a FIFO, only into a regular file."""
    shown = what or path
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as error:
        try:
            kind = os.lstat(path).st_mode
        except OSError:
            kind = 0
        if stat.S_ISLNK(kind):
            raise NpmGuardError(f"refusing to write {shown}: it is a symbolic link") from error
        if kind and not stat.S_ISREG(kind):
            raise NpmGuardError(f"refusing to write {shown}: it is not a regular file") from error
        raise NpmGuardError(f"cannot write {shown}: {error.strerror or error}") from error
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NpmGuardError(f"refusing to write {shown}: it is not a regular file")
        if _NONBLOCK and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        _write_all(fd, text.encode("utf-8"))
    except OSError as error:
        raise NpmGuardError(f"cannot write {shown}: {error.strerror or error}") from error
    finally:
        os.close(fd)


def new_file(directory: str, prefix: str, suffix: str, data: bytes | str) -> str:
    """A new file with a fresh random name in `directory`, holding `data` (mode 0600);
    returns its path. Raises NpmGuardError."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        name, fd = _create_exclusive(directory, prefix, suffix, None)
    except OSError as error:
        raise NpmGuardError(f"cannot write in {directory}: {error.strerror or error}") from error
    path = os.path.join(directory, name)
    try:
        try:
            _write_all(fd, payload)
        finally:
            os.close(fd)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise NpmGuardError(f"cannot write {path}: {error.strerror or error}") from error
    return path
