"""Which packages a publish publishes, and to which registry.

The package.json in the directory the step runs in; for a monorepo release tool
(changesets, lerna, `pnpm -r publish`, `npm publish --workspaces`) or a private root
with workspaces, every non-private workspace package (package.json `workspaces`,
pnpm-workspace.yaml `packages`, lerna.json `packages`). A `${{ matrix.x }}` in the
working directory is expanded over the job's matrix values. Files are read through the
scan's hardened reader.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re

from npm_guard.repo_files import json_object
from npm_guard.rules._workflow_common import is_npmjs
from npm_guard.trust.model import NPMJS, Package

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.repo_files import RepositoryFiles
    from npm_guard.workflow.model import Publish, Step

MAX_PACKAGE_BYTES = 1024 * 1024
MAX_PACKAGES = 500
_MATRIX_RE = re.compile(r"\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}")
_MONOREPO_COMMANDS = ("changeset", "lerna", "nx release")
_WORKSPACE_FLAGS = (" -r", " --recursive", " --workspaces", " -ws", "workspaces foreach")


def packages_of(
    files: RepositoryFiles, step: Step, publish: Publish
) -> tuple[list[Package], list[tuple[Package, str]], str | None]:
    """(packages to trust, packages skipped with the reason, a problem in words)."""
    directories = _directories(step, publish)
    if directories is None:
        return (
            [],
            [],
            (
                f"the directory {step.working_directory!r} is an expression npm-guard cannot "
                "resolve: name the packages by hand"
            ),
        )
    monorepo = publish.command.startswith(_MONOREPO_COMMANDS) or any(
        flag in publish.command for flag in _WORKSPACE_FLAGS
    )
    found: list[Package] = []
    skipped: list[tuple[Package, str]] = []
    problems: list[str] = []
    for directory in directories:
        manifest_path = _join(directory, "package.json")
        manifest = _json(files, manifest_path)
        if manifest is None:
            problems.append(f"no readable {manifest_path}")
            continue
        members = _workspace_members(files, directory, manifest)
        if members and (monorepo or manifest.get("private") is True):
            for path in members:
                member = _json(files, path)
                if member is not None:
                    _add(member, path, publish, found, skipped)
        else:
            _add(manifest, manifest_path, publish, found, skipped)
    problem = "; ".join(problems) if problems and not found else None
    return found, skipped, problem


def _add(
    manifest: dict[str, object],
    path: str,
    publish: Publish,
    found: list[Package],
    skipped: list[tuple[Package, str]],
) -> None:
    name = manifest.get("name")
    if not isinstance(name, str) or not name:
        return
    registry = publish.registry or NPMJS
    config = manifest.get("publishConfig")
    if isinstance(config, dict) and isinstance(config.get("registry"), str):
        registry = str(config["registry"])
    package = Package(name, path, registry if not is_npmjs(registry) else NPMJS)
    if any(p.name == name for p in found) or any(p.name == name for p, _ in skipped):
        return
    if manifest.get("private") is True:
        skipped.append((package, "private: never published"))
    elif not is_npmjs(registry):
        skipped.append(
            (package, f"published to {registry}: trusted publishing exists on npmjs.com only")
        )
    else:
        found.append(package)


def _directories(step: Step, publish: Publish) -> list[str] | None:
    """The directories (relative to the root) the publish runs in; None: not known."""
    base = step.working_directory or "."
    given = None
    for name in ("cwd", "package"):  # changesets/action `cwd`; JS-DevTools `package`
        item = step.inputs.get(name)
        if item is not None and publish.via[:1] == (step.uses,) and item.text.strip():
            given = item.text.strip()
    if given is not None:
        if given.endswith("package.json"):
            given = posixpath.dirname(given) or "."
        base = given if base == "." else _join(base, given)
    if "${{" not in base:
        return [_normal(base)]
    names = _MATRIX_RE.findall(base)
    if not names or _MATRIX_RE.sub("", base).count("${{"):
        return None
    from npm_guard.workflow.toolchain_events import _matrix_values

    job_node = step.job.node
    if job_node is None:
        return None
    results = [base]
    for name in dict.fromkeys(names):
        values = _matrix_values(job_node, name)
        if not values:
            return None
        results = [_substitute(text, name, value) for text in results for value in values]
    return [_normal(text) for text in dict.fromkeys(results)]


def _substitute(text: str, name: str, value: str) -> str:
    """`text` with `${{ matrix.<name> }}` replaced by `value` (other names kept)."""

    def one(match: re.Match[str]) -> str:
        return value if match.group(1) == name else match.group(0)

    return _MATRIX_RE.sub(one, text)


def _normal(path: str) -> str:
    text = posixpath.normpath(path.strip().removeprefix("./") or ".")
    return "." if text in ("", "/") else text.lstrip("/")


def _join(directory: str, name: str) -> str:
    return name if directory in (".", "") else posixpath.normpath(f"{directory}/{name}")


def _json(files: RepositoryFiles, path: str) -> dict[str, object] | None:
    return json_object(files.text(path, MAX_PACKAGE_BYTES))


def _workspace_patterns(
    files: RepositoryFiles, directory: str, manifest: dict[str, object]
) -> list[str]:
    patterns: list[str] = []
    workspaces = manifest.get("workspaces")
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    if isinstance(workspaces, list):
        patterns += [w for w in workspaces if isinstance(w, str)]
    pnpm = files.text(_join(directory, "pnpm-workspace.yaml"), MAX_PACKAGE_BYTES)
    if pnpm is not None:
        patterns += _pnpm_patterns(pnpm)
    lerna = _json(files, _join(directory, "lerna.json"))
    listed = lerna.get("packages") if lerna is not None else None
    if isinstance(listed, list):
        patterns += [w for w in listed if isinstance(w, str)]
    return list(dict.fromkeys(patterns))


def _pnpm_patterns(text: str) -> list[str]:
    from npm_guard.workflow.yaml_loader import (
        MappingNode,
        ScalarNode,
        SequenceNode,
        YamlLoadError,
        load_yaml,
    )

    try:
        root = load_yaml(text).root
    except (YamlLoadError, RecursionError):
        return []
    if not isinstance(root, MappingNode):
        return []
    listed = root.get("packages")
    if not isinstance(listed, SequenceNode):
        return []
    return [item.value for item in listed.items if isinstance(item, ScalarNode)]


def _workspace_members(
    files: RepositoryFiles, directory: str, manifest: dict[str, object]
) -> list[str]:
    """The package.json paths of the workspace packages (negated patterns left out)."""
    patterns = _workspace_patterns(files, directory, manifest)
    excluded = [_join(directory, p[1:]) for p in patterns if p.startswith("!")]
    members: list[str] = []
    for pattern in patterns:
        if pattern.startswith(("!", "/")) or ".." in pattern.split("/"):
            continue
        for found in files.glob(_join(directory, pattern.rstrip("/"))):
            found = posixpath.normpath(found)
            parts = found.split("/")
            if "node_modules" in parts or any(fnmatch.fnmatch(found, e) for e in excluded):
                continue
            path = _join(found, "package.json")
            if path not in members and files.is_file(path):
                members.append(path)
            if len(members) >= MAX_PACKAGES:
                return sorted(members)
    return sorted(members)
