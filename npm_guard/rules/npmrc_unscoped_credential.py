"""npmrc-unscoped-credential: an auth key without a `//host/path/:` prefix."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.constants import NPMJS_NERF_DART
from npm_guard.findings import Confidence, Finding, Location, Rule, Severity
from npm_guard.npmrc import NpmrcFile, nerf_dart, split_scoped_key
from npm_guard.npmrc_env import ENV_REFERENCE_RE
from npm_guard.token_advice import variable_for_scope

RULE = Rule(
    id="npmrc-unscoped-credential",
    summary="An auth setting that is not scoped to a registry",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Prefix the key with the registry it is for, e.g. "
    "//registry.npmjs.org/:_authToken=${NPM_TOKEN} (npm config fix does this).",
    target="npmrc",
)

# npm >= 9 rejects these at the top level (ERR_INVALID_AUTH); lower-case and dashed
# spellings are deleted by `npm config fix`.
UNSCOPED_AUTH_KEYS = frozenset(
    {"_authToken", "_auth", "_password", "username", "_authtoken", "-authtoken"}
)


def check(npmrc: NpmrcFile) -> Iterator[Finding]:
    registry = _configured_registry(npmrc)
    for entry in npmrc.top_level():
        if split_scoped_key(entry.key).scope is not None or entry.key not in UNSCOPED_AUTH_KEYS:
            continue
        yield Finding(
            rule=RULE,
            location=Location(npmrc.path, entry.line, entry.key_column),
            message=(
                f"{entry.key} has no //host/path/: prefix: npm 9 and later refuse the whole "
                f"config (ERR_INVALID_AUTH), and older npm sends it to every registry, "
                f"including ones you do not control"
            ),
            key=entry.key,
            tip=_tip(entry.key, entry.string_value, registry),
        )


def _configured_registry(npmrc: NpmrcFile) -> str | None:
    """The nerf-dart of this file's `registry=` (the last one, as npm reads it), if any."""
    urls = [
        e.string_value.strip()
        for e in npmrc.top_level()
        if e.key == "registry" and e.string_value and "://" in e.string_value
    ]
    return nerf_dart(urls[-1]) if urls else None


def _tip(key: str, value: str | None, registry: str | None) -> str:
    """The key for the registry `npm config fix` would pick: this file's, or npmjs."""
    name = "_authToken" if key.lower() in ("_authtoken", "-authtoken") else key
    if value is not None and ENV_REFERENCE_RE.fullmatch(value.strip()):
        shown = "=" + value.strip()  # a reference is safe to repeat; a literal never is
    elif name == "_authToken":
        shown = "=${" + variable_for_scope(registry) + "}"
    else:
        shown = ""
    which = "the registry= of this file" if registry else "npm's default registry"
    return (
        f"Prefix the key with the registry it is for: {registry or NPMJS_NERF_DART}:{name}{shown} "
        f"for {which} (`npm config fix` does this)."
    )
