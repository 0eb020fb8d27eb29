"""`--fix`: replace literal `_authToken` values in `.npmrc` with `${VAR}` references.

Only the token's own characters change; every other byte of the file (BOM, line
endings, comments, quoting) stays as it was. The token itself is still valid and in
git history, so the fix always comes with instructions to revoke it.
"""

from __future__ import annotations

import os
import re

from npm_guard._record import dataclass, field
from npm_guard.npmrc import NpmrcEntry, env_references, parse_npmrc, split_scoped_key
from npm_guard.secrets import CredentialKind, classify_token_value, kept_quotes_inner, redact

_NPMJS_SCOPE = "//registry.npmjs.org/"
_GITHUB_SCOPE = "//npm.pkg.github.com/"


def variable_for_scope(scope: str | None) -> str:
    """`NPM_TOKEN` for npmjs (or an unscoped key), `GITHUB_TOKEN` for GitHub Packages,
    `NPM_TOKEN_<HOST>` for any other registry."""
    if scope is None or scope.startswith(_NPMJS_SCOPE):
        return "NPM_TOKEN"
    if scope.startswith(_GITHUB_SCOPE):
        return "GITHUB_TOKEN"
    host = scope[2:].split("/", 1)[0]
    return "NPM_TOKEN_" + re.sub(r"[^A-Za-z0-9]+", "_", host).strip("_").upper()


@dataclass(frozen=True)
class Replacement:
    line: int
    variable: str
    shown: str  # the redacted token
    kind: CredentialKind


@dataclass
class FixResult:
    path: str
    replacements: list[Replacement] = field(default_factory=list)
    problem: str | None = None


def _token_span(entry: NpmrcEntry, value: str) -> tuple[int, int] | None:
    if entry.value_start is None or entry.value_text is None:
        return None
    offset = entry.value_text.find(value)
    if offset < 0:
        return entry.value_start, entry.value_start + len(entry.value_text)
    return entry.value_start + offset, entry.value_start + offset + len(value)


def fix_npmrc(path: str, display: str, variable: str | None = None) -> FixResult:
    """Rewrite literal `_authToken` values of one file in place; say what was replaced."""
    from npm_guard.scan import read_text

    result = FixResult(display)
    # The scan's own reader: a FIFO named .npmrc must not block, a directory or a huge
    # file is not rewritten. Invalid UTF-8 is not rewritten either (it would not round-trip).
    content = read_text(path)
    if content.problem is not None or content.text is None:
        result.problem = f"not fixed: {content.problem}"
        return result
    text = content.text
    edits: list[tuple[int, int, str]] = []
    for entry in parse_npmrc(text, display).entries:
        scoped = split_scoped_key(entry.key)
        value = entry.string_value
        if scoped.name != "_authToken" or value is None or env_references(value):
            continue
        token = kept_quotes_inner(value)
        kind = classify_token_value(token)
        if kind is None or "$" in value or "%" in value or "{{" in value:
            continue
        # The whole value, quotes npm kept included: `${VAR}` must be all npm reads.
        span = _token_span(entry, value)
        if span is None:
            continue
        name = variable or variable_for_scope(scoped.scope)
        edits.append((span[0], span[1], "${" + name + "}"))
        result.replacements.append(Replacement(entry.line, name, redact(token, kind), kind))
    if not edits:
        return result
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    # Through a symlink, rewrite the file it points to rather than replace the link.
    _write_preserving_mode(os.path.realpath(path), text.encode("utf-8"))
    return result


def _write_preserving_mode(path: str, data: bytes) -> None:
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(prefix=".npm-guard-fix-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def describe(result: FixResult) -> list[str]:
    """What the user must still do: the fix removes the token from the file, not from npm."""
    lines = []
    for item in result.replacements:
        how = (
            f"`npm token list` shows it as {item.shown}; revoke it with `npm token revoke <id>` "
            f"or at https://www.npmjs.com/settings/~/tokens"
            if item.kind in (CredentialKind.NPM_TOKEN, CredentialKind.NPM_TOKEN_BAD_CHECKSUM)
            else "revoke it where it was issued"
        )
        lines.append(
            f"{result.path}:{item.line}: replaced the {item.kind.value} {item.shown} with "
            f"${{{item.variable}}}. The token is still valid and still in git history: {how}; "
            f"then set {item.variable} in the environment where npm runs."
        )
    return lines
