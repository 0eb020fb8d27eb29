"""Running the `.npmrc` rules on one file."""

from __future__ import annotations

from npm_guard.findings import Finding, Suppressed
from npm_guard.npmrc import NpmrcFile, parse_npmrc
from npm_guard.rules import NPMRC_RULES
from npm_guard.suppress import NEXT_LINE_RE, Suppression, apply, parse_rule_list


def npmrc_suppressions(npmrc: NpmrcFile) -> list[Suppression]:
    """Whole-line `# npm-guard: ignore-next-line[rule] reason` comments (or with `;`)."""
    found = []
    for comment in npmrc.comments:
        match = NEXT_LINE_RE.match(comment.text)
        if match:
            found.append(
                Suppression(comment.line + 1, parse_rule_list(match.group(1)), match.group(2))
            )
    return found


def scan_npmrc(
    path: str, text: str, *, no_ignores: bool = False, silenced: list[Suppressed] | None = None
) -> list[Finding]:
    """Every `.npmrc` rule's findings for one file's text; those an ignore comment
    silences go to `silenced`, when given."""
    npmrc = parse_npmrc(text, path)
    findings = [finding for _, check in NPMRC_RULES for finding in check(npmrc)]
    if no_ignores:
        return findings
    return apply(findings, npmrc_suppressions(npmrc), silenced)
