"""What to do about a literal token in an `.npmrc`: which ones `--fix` replaces, the
variable each registry's token moves to, whether the token still works, and how to
revoke it.

The `.npmrc` rules give this advice in their findings and `npm_guard.fix` acts on it;
neither imports the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from npm_guard._record import dataclass
from npm_guard.constants import NPMJS_NERF_DART
from npm_guard.git_history import IN_HISTORY, NOT_COMMITTED, UNKNOWN
from npm_guard.npmrc import (
    NpmrcEntry,
    NpmrcFile,
    registry_url_for_scope,
    split_scoped_key,
)
from npm_guard.npmrc_env import env_references
from npm_guard.secrets import CredentialKind, classify_token_value, kept_quotes_inner, redact_url

_NPMJS_SCOPE = NPMJS_NERF_DART
_GITHUB_SCOPE = "//npm.pkg.github.com/"


def variable_for_scope(scope: str | None) -> str:
    """`NPM_TOKEN` for npmjs (or an unscoped key), `GITHUB_TOKEN` for GitHub Packages,
    `NPM_TOKEN_<HOST>` for any other registry: the name before `variables_for_scopes()`
    tells apart registries of one file that share it."""
    if scope is None or scope.startswith(_NPMJS_SCOPE):
        return "NPM_TOKEN"
    if scope.startswith(_GITHUB_SCOPE):
        return "GITHUB_TOKEN"
    # The host only: a `//user:password@host/` key must not put its password (upper-cased)
    # into the name of the variable written into the file.
    host = scope[2:].split("/", 1)[0].rpartition("@")[2]
    return "NPM_TOKEN_" + _env_word(host)


def _env_word(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()


def registry_of(scope: str | None) -> str:
    """The registry a scope stands for: an unscoped key is npm's default, npmjs."""
    return _NPMJS_SCOPE if scope is None else scope


def variables_for_scopes(scopes: Iterable[str | None]) -> dict[str | None, str]:
    """A variable per registry of one file, distinct between registries.

    Registries whose names would be the same (`//a.example.com/` and
    `//a.example.com/sub/`) get their path added (`NPM_TOKEN_A_EXAMPLE_COM_SUB`), all
    but the one at the host's root; a name still taken gets `_2`, `_3`….
    """
    given = list(dict.fromkeys(scopes))
    registries = list(dict.fromkeys(registry_of(scope) for scope in given))
    bases = [variable_for_scope(registry) for registry in registries]
    by_registry: dict[str, str] = {}
    taken: set[str] = set()
    for registry, name in zip(registries, bases):
        path = _env_word(registry[2:].partition("/")[2])
        if bases.count(name) > 1 and path:
            name = f"{name}_{path}"
        candidate, number = name, 2
        while candidate in taken:
            candidate, number = f"{name}_{number}", number + 1
        taken.add(candidate)
        by_registry[registry] = candidate
    return {scope: by_registry[registry_of(scope)] for scope in given}


def registry_words(scope: str | None) -> str:
    """A registry as error messages name it."""
    return "unscoped (every registry)" if scope is None else redact_url(scope)


NPM_TOKENS_PAGE = "https://www.npmjs.com/settings/~/tokens"
NPM_TOKEN_KINDS = (CredentialKind.NPM_TOKEN, CredentialKind.NPM_TOKEN_BAD_CHECKSUM)
GITHUB_TOKEN_KINDS = (CredentialKind.GITHUB_TOKEN, CredentialKind.GITHUB_TOKEN_BAD_CHECKSUM)
# Where each kind of GitHub token is revoked, by its prefix.
_GITHUB_PAGES = (
    ("github_pat_", "https://github.com/settings/personal-access-tokens (fine-grained tokens)"),
    ("ghp_", "https://github.com/settings/tokens (personal access tokens, classic)"),
    ("gho_", "https://github.com/settings/applications (the OAuth app it was issued to)"),
    ("ghu_", "https://github.com/settings/applications (the GitHub App it was issued to)"),
)
_GITHUB_APP_TOKEN = "the settings of the GitHub App that issued it (ghs_ and ghr_ belong to an app)"


def registry_supports_tokens(scope: str | None) -> bool:
    """Registries known to take `_authToken`: npmjs and GitHub Packages."""
    registry = registry_of(scope)
    return registry.startswith((_NPMJS_SCOPE, _GITHUB_SCOPE))


def is_dead(kind: CredentialKind, scope: str | None) -> bool:
    """A legacy UUID token for npmjs: npm revoked every classic token on 2025-12-09."""
    return kind is CredentialKind.LEGACY_UUID_TOKEN and registry_of(scope).startswith(_NPMJS_SCOPE)


def token_status(kind: CredentialKind, scope: str | None, history: str = IN_HISTORY) -> str:
    """One sentence on whether the replaced token still works and whether git history
    keeps it (`history`: what npm_guard.git_history found for it)."""
    where = {
        IN_HISTORY: "still in git history",
        NOT_COMMITTED: "in no commit (this file was never committed with it)",
        UNKNOWN: "perhaps in git history (git could not tell)",
    }.get(history)
    if is_dead(kind, scope):
        return f"The token is {where}" if where else "The token no longer works"
    if kind in (CredentialKind.NPM_TOKEN, CredentialKind.GITHUB_TOKEN, CredentialKind.OPAQUE_TOKEN):
        return f"The token is still valid and {where}" if where else "The token is still valid"
    if where:
        return f"The token may still be valid, and it is {where}"
    return "The token may still be valid"


def how_to_revoke(
    kind: CredentialKind, shown: str, token: str, scope: str | None, history: str = IN_HISTORY
) -> str:
    """What to do about a leaked token of this kind, as sentences without the last period.

    `token` is only looked at (its prefix), never put in the text.
    """
    if kind in NPM_TOKEN_KINDS:
        return (
            f"Revoke it: `npm token list` shows it as {shown}; `npm token revoke <id>`, or "
            f"Access Tokens on npmjs.com ({NPM_TOKENS_PAGE})"
        )
    if kind in GITHUB_TOKEN_KINDS:
        page = next((p for prefix, p in _GITHUB_PAGES if token.startswith(prefix)), None)
        return f"Revoke it in GitHub's settings: {page or _GITHUB_APP_TOKEN}"
    where = registry_url_for_scope(registry_of(scope))
    if is_dead(kind, scope):
        clean = " and clean it out of git history" if history in (IN_HISTORY, UNKNOWN) else ""
        return (
            "It no longer works (npm revoked every classic token on 2025-12-09), but it was "
            "exposed: look for other copies of it (other registries, CI secrets, old "
            f"machines){clean}"
        )
    if kind is CredentialKind.LEGACY_UUID_TOKEN:
        return (
            f"Revoke it on {redact_url(where)}: npm revoked its own classic tokens on "
            f"2025-12-09, but this registry is not npmjs and may still accept it"
        )
    return f"Revoke it on {redact_url(where)}, where it was issued"


@dataclass(frozen=True)
class TokenToFix:
    """A literal `_authToken` value `--fix` replaces by a `${VAR}` reference."""

    entry: NpmrcEntry
    scope: str | None
    token: str  # the token, without quotes npm kept around it
    kind: CredentialKind


def tokens_to_fix(npmrc: NpmrcFile) -> list[TokenToFix]:
    """The literal `_authToken` values of a file that `--fix` rewrites, in file order."""
    found = []
    for entry in npmrc.entries:
        scoped = split_scoped_key(entry.key)
        value = entry.string_value
        if scoped.name != "_authToken" or value is None or env_references(value):
            continue
        token = kept_quotes_inner(value)
        kind = classify_token_value(token)
        if kind is None or "$" in value or "%" in value or "{{" in value:
            continue
        found.append(TokenToFix(entry, scoped.scope, token, kind))
    return found
