"""`npm run <script>` resolved the way the package manager would: package.json scripts.

A workflow step `npm run release` publishes if the repository's package.json says
`"release": "changeset publish"`. This module finds that text: the package.json in the
step's working directory (inside the repository only), the `pre<name>`/`post<name>`
scripts npm runs around it, and the scripts of workspace packages for
`--workspaces`, `-w <name>`, `pnpm -r` / `--filter`, `yarn workspaces foreach` and
`yarn workspace <name>`. Files are read once per scan and size-capped; anything
unreadable resolves to nothing (the step is then judged on what it visibly runs).
"""

from __future__ import annotations

import os

from npm_guard._record import dataclass

MAX_PACKAGE_JSON_BYTES = 1024 * 1024
MAX_WORKSPACE_PACKAGES = 200


@dataclass(frozen=True)
class ScriptText:
    """One package.json script: its text and where it came from, for messages."""

    package_json: str  # path relative to the repository root, forward slashes
    name: str
    text: str


@dataclass(frozen=True)
class Package:
    directory: str  # absolute
    name: str | None
    scripts: dict[str, str]
    workspaces: tuple[str, ...]
    publish_registry: str | None = None


_CACHE: dict[tuple[str, int, int], Package | None] = {}


def _within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([os.path.realpath(path), os.path.realpath(root)]) == (
            os.path.realpath(root)
        )
    except ValueError:
        return False


def read_package(directory: str) -> Package | None:
    """The package.json of `directory`, parsed (cached by path, size and mtime)."""
    path = os.path.join(directory, "package.json")
    try:
        info = os.stat(path)
    except OSError:
        return None
    cache_key = (path, info.st_size, info.st_mtime_ns)
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    package = _parse_package(directory, path, info.st_size)
    _CACHE[cache_key] = package
    return package


def _parse_package(directory: str, path: str, size: int) -> Package | None:
    if size > MAX_PACKAGE_JSON_BYTES:
        return None
    import json  # only here: most hook runs never meet a package.json

    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(MAX_PACKAGE_JSON_BYTES).decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    raw_scripts = data.get("scripts")
    scripts = (
        {k: v for k, v in raw_scripts.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(raw_scripts, dict)
        else {}
    )
    raw_workspaces = data.get("workspaces")
    if isinstance(raw_workspaces, dict):
        raw_workspaces = raw_workspaces.get("packages")
    workspaces = (
        tuple(w for w in raw_workspaces if isinstance(w, str))
        if isinstance(raw_workspaces, list)
        else ()
    )
    if not workspaces:
        workspaces = _pnpm_workspaces(directory)
    name = data.get("name")
    publish_config = data.get("publishConfig")
    registry = publish_config.get("registry") if isinstance(publish_config, dict) else None
    return Package(
        directory,
        name if isinstance(name, str) else None,
        scripts,
        workspaces,
        registry if isinstance(registry, str) else None,
    )


def _pnpm_workspaces(directory: str) -> tuple[str, ...]:
    """`packages:` of pnpm-workspace.yaml: a flat list of globs, read without YAML."""
    path = os.path.join(directory, "pnpm-workspace.yaml")
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read(MAX_PACKAGE_JSON_BYTES).splitlines()
    except OSError:
        return ()
    found: list[str] = []
    inside = False
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[:1].isspace():
            inside = stripped.startswith("packages:")
            continue
        if inside and stripped.startswith("-"):
            found.append(stripped[1:].split(" #")[0].strip().strip("'\""))
    return tuple(f for f in found if f and not f.startswith("!"))


def workspace_packages(root_package: Package, repo_root: str) -> list[Package]:
    """The workspace packages a root package.json (or pnpm-workspace.yaml) declares."""
    import glob  # only here: workspaces are rare

    packages: list[Package] = []
    seen: set[str] = set()
    for pattern in root_package.workspaces:
        if os.path.isabs(pattern) or ".." in pattern.split("/"):
            continue
        for directory in sorted(glob.glob(os.path.join(root_package.directory, pattern))):
            if len(packages) >= MAX_WORKSPACE_PACKAGES:
                return packages
            if directory in seen or not _within(directory, repo_root):
                continue
            seen.add(directory)
            package = read_package(directory)
            if package is not None:
                packages.append(package)
    return packages


@dataclass(frozen=True)
class Selection:
    """Which packages a command runs in: the current one, all workspaces, or named ones."""

    all_workspaces: bool = False
    names: tuple[str, ...] = ()
    include_root: bool = False


def resolve_script(
    repo_root: str | None,
    working_directory: str,
    script: str,
    *,
    selection: Selection | None = None,
    pre_post: bool = True,
) -> list[ScriptText]:
    """The scripts `<pm> run <script>` runs, in order (pre, main, post; per package)."""
    if repo_root is None:
        return []
    selection = selection or Selection()
    directory = os.path.normpath(os.path.join(repo_root, working_directory))
    if not _within(directory, repo_root):
        return []
    package = read_package(directory)
    if package is None:
        return []
    targets: list[Package] = []
    if selection.all_workspaces or selection.names:
        members = workspace_packages(package, repo_root)
        if selection.names:
            members = [
                p
                for p in members
                if p.name in selection.names
                or os.path.relpath(p.directory, directory).replace(os.sep, "/") in selection.names
            ]
        targets.extend(members)
        if selection.include_root and not selection.names:
            targets.insert(0, package)
    else:
        targets.append(package)
    found: list[ScriptText] = []
    for target in targets:
        names = [f"pre{script}", script, f"post{script}"] if pre_post else [script]
        for name in names:
            text = target.scripts.get(name)
            if text is not None:
                where = os.path.relpath(os.path.join(target.directory, "package.json"), repo_root)
                found.append(ScriptText(where.replace(os.sep, "/"), name, text))
    return found


def clear_cache() -> None:
    """Forget parsed package.json files (tests that rewrite one in place)."""
    _CACHE.clear()
