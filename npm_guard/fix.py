"""`--fix`: replace literal `_authToken` values in `.npmrc` with `${VAR}` references.

Only the token's own characters change; every other byte of the file (BOM, line
endings, comments, quoting) stays as it was. The token itself is still valid, and in
git history when a commit has it (npm_guard.git_history looks), so the fix always
comes with instructions to revoke it.
"""

from __future__ import annotations

from collections.abc import Sequence

from npm_guard._record import dataclass, field
from npm_guard.errors import NpmGuardError
from npm_guard.git_history import history_of
from npm_guard.npmrc import NpmrcEntry, NpmrcFile, parse_npmrc
from npm_guard.secrets import CredentialKind, redact
from npm_guard.token_advice import (
    TokenToFix,
    how_to_revoke,
    registry_of,
    registry_words,
    token_status,
    tokens_to_fix,
    variables_for_scopes,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.repo_files import FileText


def fix_variables(
    tokens: Sequence[TokenToFix], variable: str | None = None, *, path: str = ".npmrc"
) -> dict[str | None, str]:
    """The variable for each registry with a token to fix.

    `variable` (`--fix-variable`) names the one registry of the file; a file with tokens
    for several registries is refused (NpmGuardError, exit 2) rather than given one name
    for different tokens.
    """
    scopes = [token.scope for token in tokens]
    if variable is None:
        return variables_for_scopes(scopes)
    registries = list(dict.fromkeys(registry_of(scope) for scope in scopes))
    if len(registries) > 1:
        named = ", ".join(registry_words(scope) for scope in dict.fromkeys(scopes))
        raise NpmGuardError(
            f"--fix-variable {variable}: {path} has literal tokens for {len(registries)} "
            f"registries ({named}); one variable cannot hold them all. Run --fix without "
            f"--fix-variable (each registry gets its own variable) or edit the file by hand"
        )
    return dict.fromkeys(scopes, variable)


@dataclass(frozen=True)
class Replacement:
    line: int
    variable: str
    shown: str  # the redacted token
    kind: CredentialKind
    status: str  # token_status(): whether it still works
    revoke: str  # how_to_revoke(): what to do about it


@dataclass
class FixResult:
    path: str
    replacements: list[Replacement] = field(default_factory=list)
    problem: str | None = None
    # Credentials in commented-out lines, left as they are: (line, what it is, redacted).
    left: list[tuple[int, str]] = field(default_factory=list)


def _token_span(entry: NpmrcEntry, value: str) -> tuple[int, int] | None:
    if entry.value_start is None or entry.value_text is None:
        return None
    offset = entry.value_text.find(value)
    if offset < 0:
        return entry.value_start, entry.value_start + len(entry.value_text)
    return entry.value_start + offset, entry.value_start + offset + len(value)


def _readable(path: str) -> FileText:
    from npm_guard.repo_files import read_text

    # The scan's own reader: a FIFO named .npmrc must not block, a directory or a huge
    # file is not rewritten. Invalid UTF-8 is not rewritten either (it would not round-trip).
    return read_text(path)


def check_fix(path: str, display: str, variable: str | None, root: str | None) -> None:
    """Refuse, before any file is rewritten, a fix that would be refused for this file:
    `--fix-variable` for tokens of several registries (see fix_variables), or a file
    with tokens to fix reached through a symbolic link out of the repository `root`."""
    content = _readable(path)
    if content.problem is not None or content.text is None:
        return
    tokens = tokens_to_fix(parse_npmrc(content.text, display))
    if variable is not None:
        fix_variables(tokens, variable, path=display)
    if tokens:
        from npm_guard.atomic_write import resolve_for_writing

        resolve_for_writing(path, root)


def fix_npmrc(
    path: str, display: str, variable: str | None = None, root: str | None = None
) -> FixResult:
    """Rewrite literal `_authToken` values of one file in place; say what was replaced.

    `root` is the repository: the file is never written through a symbolic link that
    leads out of it (NpmGuardError)."""
    result = FixResult(display)
    content = _readable(path)
    if content.problem is not None or content.text is None:
        result.problem = f"not fixed: {content.problem}"
        return result
    text = content.text
    parsed = parse_npmrc(text, display)
    tokens = tokens_to_fix(parsed)
    result.left = _commented_out(parsed)
    names = fix_variables(tokens, variable, path=display)
    history: dict[str, str] = {}
    if tokens:
        history = history_of(path, [item.token for item in tokens])
    edits: list[tuple[int, int, str]] = []
    for item in tokens:
        # The whole value, quotes npm kept included: `${VAR}` must be all npm reads.
        span = _token_span(item.entry, item.entry.string_value or "")
        if span is None:
            continue
        name = names[item.scope]
        edits.append((span[0], span[1], "${" + name + "}"))
        shown = redact(item.token, item.kind)
        result.replacements.append(
            Replacement(
                item.entry.line,
                name,
                shown,
                item.kind,
                token_status(item.kind, item.scope, history[item.token]),
                how_to_revoke(item.kind, shown, item.token, item.scope, history[item.token]),
            )
        )
    if not edits:
        return result
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    from npm_guard.atomic_write import replace_file

    # Through a symlink inside the repository, the file it points to is rewritten and
    # the link stays; one that leads out of the repository is refused. The mode stays.
    replace_file(path, text.encode("utf-8"), tree=root, what=display)
    return result


def _commented_out(npmrc: NpmrcFile) -> list[tuple[int, str]]:
    """(line, kind) of each credential in a commented-out line: `--fix` rewrites the
    settings npm reads, and does not guess what a comment was kept for."""
    if not any("=" in comment.text for comment in npmrc.comments):
        return []
    from npm_guard.rules.npmrc_plaintext_credential import commented_credentials

    return [
        (finding.location.line, finding.properties.get("credential_kind", "credential"))
        for finding in commented_credentials(npmrc)
    ]


def describe(result: FixResult) -> list[str]:
    """What the user must still do: the fix removes the token from the file, not from npm."""
    lines = []
    for item in result.replacements:
        lines.append(
            f"{result.path}:{item.line}: replaced the {item.kind.value} {item.shown} with "
            f"${{{item.variable}}}. {item.status}. {item.revoke}. Then set {item.variable} in the "
            f"environment where npm runs."
        )
    for line, kind in result.left:
        lines.append(
            f"{result.path}:{line}: left the {kind} in this commented-out line as it is "
            f"(--fix rewrites settings, not comments): revoke it, then delete the line."
        )
    return lines
