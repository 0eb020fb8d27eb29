"""Which packages a repository publishes, and which registry each one goes to.

The root `package.json` and its npm `workspaces`; private packages are skipped. The
registry of a package is `--registry` if given, else its `publishConfig.registry`, else
the project `.npmrc`'s `@scope:registry` or `registry`, else npm's.

The project `.npmrc` is the repository's, so its registry URLs are untrusted: one that
refers to a credential (`${NPM_TOKEN}`, any variable whose name says token, secret,
password, auth or key) or whose expansion holds the audit's token is refused, naming
the key and never the value; `expands_into_path` says that a variable's value lands in
the user info, path, query or fragment, which the audit refuses on the origin its token
goes to (`npm_guard.audit.command`).
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Mapping, Sequence

from npm_guard._record import dataclass, field
from npm_guard.constants import NPMJS_REGISTRY
from npm_guard.errors import NpmGuardError
from npm_guard.paths import display_path

_NAME_LINE_RE = re.compile(r'^[ \t]*"name"\s*:', re.MULTILINE)  # not \s* first: quadratic


@dataclass(frozen=True)
class PackageTarget:
    """One package to audit."""

    name: str
    registry: str
    manifest: str | None = None  # display path of its package.json, when in the repository
    line: int = 1  # line of its "name" key
    refusal: str | None = None  # why its registry URL is not used (names the key, never the URL)
    # The `.npmrc` setting its registry came from, if it did.
    setting: RegistrySetting | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RegistrySetting:
    """A registry URL of the project `.npmrc`, as npm expands it, and what it refers to."""

    key: str  # "registry", "@acme:registry"
    url: str  # expanded; never shown (it may hold what a variable holds)
    refusal: str | None = None
    variables: tuple[str, ...] = ()  # the variables it refers to
    expands_into_path: bool = False  # one of them lands after the host (or in user info)


@dataclass(frozen=True)
class _Manifest:
    path: str
    display: str
    name: str | None
    private: bool
    publish_registry: str | None
    workspaces: tuple[str, ...]
    line: int


def _read_manifest(path: str, root: str) -> _Manifest:
    display = display_path(path, root)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
        data = json.loads(text)
    except OSError as error:
        raise NpmGuardError(f"cannot read {display}: {error.strerror}") from error
    except ValueError as error:
        raise NpmGuardError(f"{display} is not valid JSON: {error}") from error
    except RecursionError as error:
        raise NpmGuardError(f"{display} is not valid JSON: nested too deeply") from error
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
    """`registry` and `@scope:registry` from the project `.npmrc`, `${VAR}` expanded,
    those that are not refused (see `registry_settings`).

    Keys are `""` for the default registry and `@scope` for scoped ones.
    """
    return {
        scope: setting.url
        for scope, setting in registry_settings(root, env).items()
        if setting.refusal is None
    }


# A variable whose name says it holds a credential (besides npm's own, see
# `npm_guard.workflow.expressions.is_credential_name`).
_CREDENTIAL_NAME_RE = re.compile(
    r"TOKEN|SECRET|PASSW|PASSPHRASE|AUTH|CREDENTIAL|PRIVATE|COOKIE|SESSION"
    r"|(?:^|_)(?:KEY|PAT|PWD|OTP|PASS)(?:_|$)",
    re.IGNORECASE,
)


def is_credential_variable(name: str, token_env: str | None = None) -> bool:
    """True for the audit's token variable and any name that says credential."""
    from npm_guard.workflow.expressions import is_credential_name

    return (
        name == token_env
        or is_credential_name(name)
        or _CREDENTIAL_NAME_RE.search(name) is not None
    )


def registry_settings(
    root: str,
    env: Mapping[str, str],
    *,
    token_env: str | None = None,
    secrets: Sequence[str] = (),
) -> dict[str, RegistrySetting]:
    """`registry` and `@scope:registry` of the project `.npmrc` as npm reads them, each
    refused when it refers to a credential variable (or `token_env`), when its expansion
    holds one of `secrets`, or when it is no http(s) URL. Keys as `npmrc_registries`."""
    from npm_guard.npmrc import decode_tree, parse_npmrc
    from npm_guard.npmrc_env import env_references, expand_env
    from npm_guard.npmrc_js import NpmrcDecodeError, js_trim

    path = os.path.join(root, ".npmrc")
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return {}
    try:
        tree = decode_tree(parse_npmrc(text, path))
    except NpmrcDecodeError:
        return {}  # npm cannot load it either
    settings: dict[str, RegistrySetting] = {}
    for raw_key, raw_value in tree.items():
        key = expand_env(raw_key, env)
        if key == "registry":
            scope = ""
        elif key.startswith("@") and key.endswith(":registry"):
            scope = key[: -len(":registry")]
        else:
            continue
        if not isinstance(raw_value, str):
            settings.pop(scope, None)
            continue
        raw = js_trim(raw_value)
        if raw in ("undefined", "true", "false", "null"):
            settings.pop(scope, None)
            continue
        url = expand_env(raw, env).strip()
        if not url:
            settings.pop(scope, None)  # empty: npm's default, as if not set
            continue
        names = tuple(dict.fromkeys(ref.name for ref in env_references(raw)))
        settings[scope] = RegistrySetting(
            key=key,
            url=url,
            refusal=_refusal(key, raw, url, names, token_env, secrets),
            variables=names,
            expands_into_path=_expands_into_path(raw),
        )
    return settings


def _refusal(
    key: str,
    raw: str,
    url: str,
    names: Sequence[str],
    token_env: str | None,
    secrets: Sequence[str],
) -> str | None:
    """Why the registry URL of `key` is not used, without its value; None when it is."""
    for name in names:
        if is_credential_variable(name, token_env):
            return (
                f"`{key}` refers to ${{{name}}}, a credential: npm-guard never puts a "
                f"credential into a registry URL, so this registry is not used"
            )
    for secret in secrets:
        if len(secret) >= 4 and secret in url:
            return (
                f"`{key}` expands to a URL that holds the audit's token: npm-guard never "
                f"puts its token into a URL, so this registry is not used"
            )
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        usable = False
    if not usable:
        return f"`{key}` is not an http(s) URL, so this registry is not used"
    return None


def _expands_into_path(raw: str) -> bool:
    """Whether a `${VAR}` of the raw URL `raw` lands anywhere but its host and port: in
    the scheme (the whole URL comes from it), the user info, path, query or fragment."""
    from npm_guard.npmrc_env import env_references

    references = env_references(raw)
    if not references:
        return False
    scheme_end = raw.find("://")
    if scheme_end < 0 or any(ref.start < scheme_end + 3 for ref in references):
        return True
    start = scheme_end + 3
    end = len(raw)
    for delimiter in "/?#":
        found = raw.find(delimiter, start)
        if 0 <= found < end:
            end = found
    host_start = raw.rfind("@", start, end) + 1 or start
    return any(ref.start < host_start or ref.end > end for ref in references)


def target_for(
    name: str,
    *,
    override: str | None,
    publish_registry: str | None,
    settings: Mapping[str, RegistrySetting],
    manifest: str | None = None,
    line: int = 1,
) -> PackageTarget:
    """The package `name` with its registry by npm's order of precedence, refused when
    that registry is an `.npmrc` setting that was refused."""
    if override or publish_registry:
        registry = override or publish_registry or ""
        return PackageTarget(name, registry, manifest, line)
    scope = name.split("/", 1)[0] if name.startswith("@") and "/" in name else None
    setting = settings.get(scope) if scope else None
    if setting is None:
        setting = settings.get("")
    if setting is None:
        return PackageTarget(name, NPMJS_REGISTRY, manifest, line)
    return PackageTarget(name, setting.url, manifest, line, setting.refusal, setting)


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
    root: str,
    *,
    override: str | None,
    env: Mapping[str, str],
    settings: Mapping[str, RegistrySetting] | None = None,
) -> list[PackageTarget]:
    """Every non-private package of the repository at `root`: the root and its workspaces
    (`settings`: the `.npmrc` registries, read here when not given)."""
    root_manifest = os.path.join(root, "package.json")
    if not os.path.isfile(root_manifest):
        raise NpmGuardError(
            "no package.json in the current directory: run npm-guard audit at the "
            "repository root, or name the packages to audit"
        )
    if settings is None:
        settings = registry_settings(root, env)
    top = _read_manifest(root_manifest, root)
    manifests = [top]
    for path in _workspace_manifests(root, top.workspaces):
        if os.path.realpath(path) != os.path.realpath(root_manifest):
            manifests.append(_read_manifest(path, root))
    targets: dict[str, PackageTarget] = {}
    for manifest in manifests:
        if manifest.private or manifest.name is None:
            continue
        targets.setdefault(
            manifest.name,
            target_for(
                manifest.name,
                override=override,
                publish_registry=manifest.publish_registry,
                settings=settings,
                manifest=manifest.display,
                line=manifest.line,
            ),
        )
    return list(targets.values())


def named_packages(
    names: Sequence[str],
    root: str,
    *,
    override: str | None,
    env: Mapping[str, str],
    settings: Mapping[str, RegistrySetting] | None = None,
) -> list[PackageTarget]:
    """Packages named on the command line; those found in the repository keep their manifest."""
    if settings is None:
        settings = registry_settings(root, env)
    known: dict[str, PackageTarget] = {}
    if os.path.isfile(os.path.join(root, "package.json")):
        try:
            found = repository_packages(root, override=override, env=env, settings=settings)
            known = {t.name: t for t in found}
        except NpmGuardError:
            known = {}
    targets: dict[str, PackageTarget] = {}
    for name in names:
        if not _valid_name(name):
            raise NpmGuardError(f"{name!r} is not an npm package name")
        if name in known:
            targets.setdefault(name, known[name])
        else:
            targets.setdefault(
                name, target_for(name, override=override, publish_registry=None, settings=settings)
            )
    return list(targets.values())


_NAME_RE = re.compile(r"^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9._~-][a-z0-9._~-]*$", re.IGNORECASE)


def _valid_name(name: str) -> bool:
    return len(name) <= 214 and _NAME_RE.match(name) is not None
