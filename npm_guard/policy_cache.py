"""Remember policy files that passed validation, so an unchanged file is not validated
(nor even parsed as YAML) again.

Importing jsonschema costs more than the whole `.npmrc` hook, and PyYAML about as much
(DESIGN.md, "Targets": a hook within 1.5x of `python -c "import yaml"`), while a policy
file rarely changes between commits. A file that passed every check is remembered, as
the plain values and line numbers the loader read from it, under a key made of the
SHA-256 of its content, the SHA-256 of the schema, npm-guard's version and this
module's format: any edit, schema change or upgrade is a new key, so the file is
parsed and validated again. On a hit only the schema and the YAML parse are skipped;
the loader's other checks run on the remembered values every time.

The cache is `$NPM_GUARD_CACHE_DIR`, else `$XDG_CACHE_HOME/npm-guard`, else
`~/.cache/npm-guard`, created with mode 0700. An entry is trusted only when the
directory and the entry are owned by the current user and nobody else may write to
them (the same trust Python gives its own `__pycache__`, which is marshal data too);
otherwise, or when the cache cannot be written, every run simply validates. A file
that holds anything token-shaped is never remembered: the cache stores no credential.
"""

from __future__ import annotations

import os
import stat

from npm_guard import __version__

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from typing import Any

CACHE_ENV = "NPM_GUARD_CACHE_DIR"
FORMAT = 1  # of an entry: (FORMAT, data, key lines, value lines)
MAX_ENTRY_BYTES = 8 * 1024 * 1024
_ENTRY_PREFIX = "policy-"

Lines = dict[tuple[object, ...], int]


def cache_directory() -> str | None:
    """Where validated policies are remembered, or None when no place is known."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative path is to be ignored
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "npm-guard")


def _sha256() -> Any:
    """`hashlib.sha256`, without importing hashlib: its OpenSSL binding alone costs the
    hook ~2.5 ms. CPython's own SHA-256 module is `_sha256` (up to 3.11) or `_sha2`."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found, no-redef, unused-ignore]
        except ImportError:
            from hashlib import sha256  # type: ignore[no-redef, unused-ignore]
    return sha256


def _entry_path(directory: str, text: str, schema: bytes) -> str:
    sha256 = _sha256()
    digest = sha256(f"npm-guard {__version__} policy cache {FORMAT}\0".encode())
    digest.update(sha256(schema).digest())
    digest.update(text.encode("utf-8", "surrogatepass"))
    return os.path.join(directory, _ENTRY_PREFIX + str(digest.hexdigest()))


def _trusted(info: os.stat_result) -> bool:
    """Ours, and not writable by anyone else (where the platform has owners)."""
    if not hasattr(os, "geteuid"):
        return True
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cached_document(text: str, schema: bytes) -> tuple[Any, Lines, Lines] | None:
    """(data, key lines, value lines) read from `text` when it passed `schema` before."""
    directory = cache_directory()
    if directory is None:
        return None
    import marshal

    try:
        folder = os.lstat(directory)
        if not stat.S_ISDIR(folder.st_mode) or not _trusted(folder):
            return None
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(_entry_path(directory, text, schema), flags)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or not _trusted(info):
                return None
            entry = marshal.loads(handle.read(MAX_ENTRY_BYTES + 1))
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not (isinstance(entry, tuple) and len(entry) == 4 and entry[0] == FORMAT):
        return None
    _, data, key_lines, value_lines = entry
    if not (isinstance(key_lines, dict) and isinstance(value_lines, dict)):
        return None
    return data, key_lines, value_lines


def remember_document(
    text: str, schema: bytes, data: Any, key_lines: Lines, value_lines: Lines
) -> None:
    """Record that `text` passed every check; a cache that cannot be written is no error."""
    directory = cache_directory()
    if directory is None:
        return
    from npm_guard.secrets import find_tokens

    if any(find_tokens(text, uuids=True)):
        return  # never store a credential, not even one pasted into a reason
    import marshal

    from npm_guard.atomic_write import replace_file
    from npm_guard.errors import NpmGuardError

    try:
        payload = marshal.dumps((FORMAT, data, key_lines, value_lines))
        if len(payload) > MAX_ENTRY_BYTES:
            return
        os.makedirs(directory, mode=0o700, exist_ok=True)
        folder = os.lstat(directory)
        if not stat.S_ISDIR(folder.st_mode) or not _trusted(folder):
            return
        # A fresh, exclusive temporary file renamed over the entry: a link planted at
        # either name is replaced, never written through. No fsync: a lost entry only
        # means the file is validated again.
        replace_file(
            _entry_path(directory, text, schema),
            payload,
            tree=None,
            durable=False,
            new_mode=0o600,
        )
    except (OSError, ValueError, NpmGuardError):
        return
