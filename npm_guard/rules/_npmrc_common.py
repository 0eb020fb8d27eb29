"""What the `.npmrc` rules share: which registry an entry concerns, the auth keys."""

from __future__ import annotations

import re

from npm_guard.findings import Location
from npm_guard.npmrc import NpmrcEntry, NpmrcFile, split_scoped_key
from npm_guard.npmrc_env import unexpanded_variables
from npm_guard.secrets import redact_url

_ENV_STYLE_RE = re.compile(r"[A-Z_][A-Z0-9_]*")


def registry_label(entry: NpmrcEntry) -> str:
    """The registry a key applies to, in words: `https://host/path/`, or all registries."""
    scope = split_scoped_key(entry.key).scope
    if scope is None:
        return "every registry (the key has no //host/ prefix)"
    return redact_url("https:" + scope if not scope.startswith("//localhost") else "http:" + scope)


def setting_name(entry: NpmrcEntry) -> str:
    return split_scoped_key(entry.key).name


def same_scope(npmrc: NpmrcFile, entry: NpmrcEntry, name: str) -> NpmrcEntry | None:
    """Another top-level entry with the same registry scope and setting `name`."""
    scope = split_scoped_key(entry.key).scope
    for other in npmrc.top_level():
        other_key = split_scoped_key(other.key)
        if other_key.scope == scope and other_key.name == name:
            return other
    return None


def value_location(npmrc: NpmrcFile, entry: NpmrcEntry, fragment: str = "") -> Location:
    """Where `fragment` of the entry's value starts (the value's start if not found raw)."""
    column = entry.value_column or entry.key_column
    offset = (entry.value_text or "").find(fragment) if fragment else 0
    start = column + max(offset, 0)
    end = start + len(fragment) if fragment and offset >= 0 else None
    return Location(npmrc.path, entry.line, start, entry.line if end else None, end)


def only_unexpanded_variables(value: str) -> bool:
    """True when every non-blank character of `value` belongs to a variable-like form.

    `_authToken=$NPM_TOKEN` is a broken reference; `_password=pa$$word` is a literal
    password that happens to contain `$`, and must be reported (and shown) as a secret.
    So is `_password=$Secr3tPw`: a bare `$name` counts as a variable only when the name
    is written the way environment variables are (upper case, digits, `_`).
    """
    variables = [
        v
        for v in unexpanded_variables(value)
        if v.form != "$VAR" or _ENV_STYLE_RE.fullmatch(v.text[1:])
    ]
    if not variables:
        return False
    covered = "".join(
        " " if any(v.start <= i < v.end for v in variables) else char
        for i, char in enumerate(value)
    )
    return not covered.strip()
