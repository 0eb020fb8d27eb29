"""Which packages a repository publishes, and which registry each one goes to.

The root `package.json` and its npm `workspaces`; private packages are skipped. The
registry of a package is `--registry` if given, else its `publishConfig.registry`, else
the project `.npmrc`'s `@scope:registry` or `registry`, else npm's.
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from npm_guard.errors import NpmGuardError

NPMJS_REGISTRY = "https://registry.npmjs.org/"
_NAME_LINE_RE = re.compile(r'^[ \t]*"name"\s*:', re.MULTILINE)  # not \s* first: quadratic


@dataclass(frozen=True)
class PackageTarget:
    """One package to audit."""

    name: str
    registry: str
    manifest: str | None = None  # display path of its package.json, when in the repository
    line: int = 1  # line of its "name" key


@dataclass(frozen=True)
class _Manifest:
    path: str
    display: str
    name: str | None
    private: bool
    publish_registry: str | None
    workspaces: tuple[str, ...]
    line: int


def _display(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return path if rel.startswith("..") else rel.replace(os.sep, "/")


def _read_manifest(path: str, root: str) -> _Manifest:
    display = _display(path, root)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
        data = json.loads(text)
    except OSError as error:
        raise NpmGuardError(f"cannot read {display}: {error.strerror}") from error
    except ValueError as error:
        raise NpmGuardError(f"{display} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise NpmGuardError(f"{display} is not a JSON object")
    name = data.get("name") if isinstance(data.get("name"), str) else None
    publish = data.get("publishConfig")
    registry = publish.get("registry") if isinstance(publish, dict) else None
    raw = data.get("workspaces")
    if isinstance(raw, dict):
        raw = raw.get("packages")
    workspaces = tuple(w for w in raw if isinstance(w, str)) if isinstance(raw, list) else ()
    match = _NAME_LINE_RE.search(text)
    line = text.count("\n", 0, match.start()) + 1 if match else 1
    return _Manifest(
        path=path,
        display=display,
        name=name,
        private=data.get("private") is True,
        publish_registry=registry if isinstance(registry, str) and registry else None,
        workspaces=workspaces,
        line=line,
    )


def _workspace_manifests(root: str, patterns: Sequence[str]) -> list[str]:
    """package.json files of npm workspaces: glob patterns, `!pattern` excludes.

    Files are told apart by their real path, but returned as found under `root`, so
    their display paths stay relative when `root` itself is reached through a symlink.
    """
    found: dict[str, str] = {}  # real path -> path under root
    excluded: set[str] = set()
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern[1:] if negate else pattern
        for directory in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
            manifest = os.path.join(directory, "package.json")
            parts = os.path.relpath(directory, root).split(os.sep)
            if "node_modules" in parts or not os.path.isfile(manifest):
                continue
            real = os.path.realpath(manifest)
            if negate:
                excluded.add(real)
            else:
                found.setdefault(real, os.path.normpath(manifest))
    return [path for real, path in found.items() if real not in excluded]


def npmrc_registries(root: str, env: Mapping[str, str]) -> dict[str, str]:
    """`registry` and `@scope:registry` from the project `.npmrc`, `${VAR}` expanded.

    Keys are `""` for the default registry and `@scope` for scoped ones.
    """
    from npm_guard.npmrc import read_npm_config

    registries: dict[str, str] = {}
    for key, value in read_npm_config(os.path.join(root, ".npmrc"), env).items():
        if not isinstance(value, str):
            continue
        if key == "registry":
            registries[""] = value.strip()
        elif key.startswith("@") and key.endswith(":registry"):
            registries[key[: -len(":registry")]] = value.strip()
    return registries


def registry_for(
    name: str,
    *,
    override: str | None,
    publish_registry: str | None,
    registries: Mapping[str, str],
) -> str:
    """The registry `name` publishes to, by npm's order of precedence."""
    if override:
        return override
    if publish_registry:
        return publish_registry
    scope = name.split("/", 1)[0] if name.startswith("@") and "/" in name else None
    if scope and registries.get(scope):
        return registries[scope]
    return registries.get("") or NPMJS_REGISTRY


def repository_packages(
    root: str, *, override: str | None, env: Mapping[str, str]
) -> list[PackageTarget]:
    """Every non-private package of the repository at `root`: the root and its workspaces."""
    root_manifest = os.path.join(root, "package.json")
    if not os.path.isfile(root_manifest):
        raise NpmGuardError(
            "no package.json in the current directory: run npm-guard audit at the "
            "repository root, or name the packages to audit"
        )
    registries = npmrc_registries(root, env)
    top = _read_manifest(root_manifest, root)
    manifests = [top]
    for path in _workspace_manifests(root, top.workspaces):
        if os.path.realpath(path) != os.path.realpath(root_manifest):
            manifests.append(_read_manifest(path, root))
    targets: dict[str, PackageTarget] = {}
    for manifest in manifests:
        if manifest.private or manifest.name is None:
            continue
        registry = registry_for(
            manifest.name,
            override=override,
            publish_registry=manifest.publish_registry,
            registries=registries,
        )
        targets.setdefault(
            manifest.name,
            PackageTarget(manifest.name, registry, manifest.display, manifest.line),
        )
    return list(targets.values())


def named_packages(
    names: Sequence[str], root: str, *, override: str | None, env: Mapping[str, str]
) -> list[PackageTarget]:
    """Packages named on the command line; those found in the repository keep their manifest."""
    known: dict[str, PackageTarget] = {}
    if os.path.isfile(os.path.join(root, "package.json")):
        try:
            known = {t.name: t for t in repository_packages(root, override=override, env=env)}
        except NpmGuardError:
            known = {}
    registries = npmrc_registries(root, env)
    targets: dict[str, PackageTarget] = {}
    for name in names:
        if not _valid_name(name):
            raise NpmGuardError(f"{name!r} is not an npm package name")
        if name in known:
            targets.setdefault(name, known[name])
        else:
            registry = registry_for(
                name, override=override, publish_registry=None, registries=registries
            )
            targets.setdefault(name, PackageTarget(name, registry))
    return list(targets.values())


_NAME_RE = re.compile(r"^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9._~-][a-z0-9._~-]*$", re.IGNORECASE)


def _valid_name(name: str) -> bool:
    return len(name) <= 214 and _NAME_RE.match(name) is not None
