"""npmrc-unscoped-credential: an auth key without a `//host/path/:` prefix."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Location, Rule, Severity
from npm_guard.npmrc import NpmrcFile, split_scoped_key

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
        )
