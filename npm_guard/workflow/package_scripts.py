"""`npm run <script>` resolved the way the package manager would: package.json scripts.

A workflow step `npm run release` publishes if the repository's package.json says
`"release": "changeset publish"`. This module finds that text: the package.json in the
step's working directory (inside the repository only), the `pre<name>`/`post<name>`
scripts npm runs around it, and the scripts of workspace packages for
`--workspaces`, `-w <name>`, `pnpm -r` / `--filter`, `yarn workspaces foreach` and
`yarn workspace <name>`. Files are read through the workflow's `ConsultedFiles`
(size-capped, once per scan); anything unreadable resolves to nothing (the step is
then judged on what it visibly runs), and a file refused by the reader is reported
against the line that needed it. Paths are relative to the repository root, `/`-separated.
"""

from __future__ import annotations

import posixpath

from npm_guard._record import dataclass
from npm_guard.repo_files import json_object

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.repo_files import FileText
    from npm_guard.workflow.consulted import ConsultedFiles
    from npm_guard.workflow.positions import Span

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
    directory: str  # relative to the repository root ("." for the root)
    name: str | None
    scripts: dict[str, str]
    workspaces: tuple[str, ...]  # package.json's (pnpm's are read when needed)
    publish_registry: str | None = None


@dataclass(frozen=True)
class Need:
    """The line that needs a package.json, and what for (for a file the reader refuses)."""

    span: Span
    purpose: str  # "to follow `npm run release`"


def read_package(
    consulted: ConsultedFiles, directory: str, need: Need | None = None
) -> Package | None:
    """The package.json of `directory` (relative to the repository root), parsed."""
    directory = posixpath.normpath(directory)
    if directory in consulted.packages:
        package = consulted.packages[directory]
        if package is None and need is not None:
            _read(consulted, _in(directory, "package.json"), need)  # report it
        return package
    package = _parse_package(consulted, directory, need)
    consulted.packages[directory] = package
    return package


def _in(directory: str, name: str) -> str:
    """`name` in `directory`, relative to the repository root (`package.json` at the root)."""
    return posixpath.normpath(posixpath.join(directory, name))


def _relative(path: str, directory: str) -> str:
    """`path` as seen from `directory` (both relative to the root; `path` below it)."""
    if directory == ".":
        return path
    return path[len(directory) + 1 :] if path.startswith(directory + "/") else path


def _read(consulted: ConsultedFiles, path: str, need: Need | None) -> str | None:
    """The text of a small file, or None (missing, refused, too large, not UTF-8)."""
    found = consulted.read(
        path,
        MAX_PACKAGE_JSON_BYTES,
        needed_at=need.span if need is not None else None,
        purpose=need.purpose if need is not None else "",
    )
    if found.text is None or found.problem is not None:
        return None
    return found.text


def _parse_package(consulted: ConsultedFiles, directory: str, need: Need | None) -> Package | None:
    """The package.json of `directory`, parsed once per scan (`RepositoryFiles.parsed`)."""
    return consulted.parsed(
        _in(directory, "package.json"),
        MAX_PACKAGE_JSON_BYTES,
        _package_from,
        needed_at=need.span if need is not None else None,
        purpose=need.purpose if need is not None else "",
    )


def _package_from(path: str, found: FileText) -> Package | None:
    """A package.json's text, parsed (None: missing, refused, too large, not UTF-8, not
    a JSON object)."""
    if found.text is None or found.problem is not None:
        return None
    text = found.text
    directory = posixpath.dirname(path) or "."
    data = json_object(text)
    if data is None:
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


def _pnpm_workspaces(
    consulted: ConsultedFiles, directory: str, need: Need | None
) -> tuple[str, ...]:
    """`packages:` of pnpm-workspace.yaml: a flat list of globs, read without YAML."""
    found_text = consulted.read(
        _in(directory, "pnpm-workspace.yaml"),
        MAX_PACKAGE_JSON_BYTES,
        needed_at=need.span if need is not None else None,
        purpose=need.purpose if need is not None else "",
    ).text
    if found_text is None:
        return ()
    found: list[str] = []
    inside = False
    for line in found_text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[:1].isspace():
            inside = stripped.startswith("packages:")
            continue
        if inside and stripped.startswith("-"):
            found.append(stripped[1:].split(" #")[0].strip().strip("'\""))
    return tuple(f for f in found if f and not f.startswith("!"))


def workspace_packages(
    consulted: ConsultedFiles, root_package: Package, need: Need | None = None
) -> list[Package]:
    """The workspace packages a root package.json (or pnpm-workspace.yaml) declares."""
    if consulted.files is None:
        return []
    packages: list[Package] = []
    seen: set[str] = set()
    patterns = root_package.workspaces or _pnpm_workspaces(consulted, root_package.directory, need)
    for pattern in patterns:
        if pattern.startswith("/") or ".." in pattern.split("/"):
            continue
        matches = consulted.files.glob(posixpath.join(root_package.directory, pattern))
        for directory in matches:
            if len(packages) >= MAX_WORKSPACE_PACKAGES:
                return packages
            directory = posixpath.normpath(directory)
            if directory in seen:
                continue
            seen.add(directory)
            package = read_package(consulted, directory, need)
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
    consulted: ConsultedFiles,
    working_directory: str,
    script: str,
    *,
    selection: Selection | None = None,
    pre_post: bool = True,
    need: Need | None = None,
) -> list[ScriptText]:
    """The scripts `<pm> run <script>` runs, in order (pre, main, post; per package).

    `working_directory` is relative to the repository root; `need` says which line
    needs the files, for those the reader refuses.
    """
    selection = selection or Selection()
    directory = posixpath.normpath(working_directory)
    if directory.startswith("/") or directory == ".." or directory.startswith("../"):
        return []
    package = read_package(consulted, directory, need)
    if package is None:
        return []
    targets: list[Package] = []
    if selection.all_workspaces or selection.names:
        members = workspace_packages(consulted, package, need)
        if selection.names:
            members = [
                p
                for p in members
                if p.name in selection.names or _relative(p.directory, directory) in selection.names
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
                where = _in(target.directory, "package.json")
                found.append(ScriptText(where, name, text))
    return found
