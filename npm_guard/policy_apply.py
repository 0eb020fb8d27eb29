"""The one place a policy changes findings: severity overrides, `off`, and path ignores."""

from __future__ import annotations

from collections.abc import Iterable

from npm_guard.findings import BY_POLICY, Finding, Suppressed
from npm_guard.policy import IgnoreEntry, Policy


def apply_policy(
    findings: Iterable[Finding], policy: Policy, silenced: list[Suppressed] | None = None
) -> list[Finding]:
    """`findings` less those the policy ignores or turns off, with its severities applied;
    those it silences go to `silenced`, when given, with the reason.

    A severity in `rules:` replaces the severity of every finding of that rule, including
    findings for which the rule chose a severity of its own.
    """
    out: list[Finding] = []
    for finding in findings:
        entry = ignoring_entry(finding, policy.ignore)
        if entry is not None:
            if silenced is not None:
                silenced.append(Suppressed(finding, BY_POLICY, entry.reason))
            continue
        if finding.rule.id in policy.rules:
            severity = policy.rules[finding.rule.id]
            if severity is None:
                if silenced is not None:
                    reason = (
                        f"the policy turns {finding.rule.id} off (rules: {finding.rule.id}: off)"
                    )
                    silenced.append(Suppressed(finding, BY_POLICY, reason))
                continue
            finding = finding.with_severity(severity)
        out.append(finding)
    return out


def is_ignored(finding: Finding, entries: Iterable[IgnoreEntry]) -> bool:
    """True when an `ignore:` entry names the finding's rule (or `*`) and matches its path."""
    return ignoring_entry(finding, entries) is not None


def ignoring_entry(finding: Finding, entries: Iterable[IgnoreEntry]) -> IgnoreEntry | None:
    """The first `ignore:` entry that names the finding's rule (or `*`) and matches its path."""
    path = finding.location.path
    for entry in entries:
        if entry.rule in ("*", finding.rule.id) and path_matches(entry.path, path):
            return entry
    return None


def path_matches(glob: str, path: str) -> bool:
    """Whether `path` (relative, `/`-separated) matches `glob`, anchored at the root.

    `*` and `?` stay within one directory level, `**` spans levels (`**/` may match
    none), `[abc]` is a character class, and a trailing `/` means everything below.
    In time linear in the path, whatever the glob (`npm_guard.glob_match`).
    """
    from npm_guard.glob_match import path_glob

    if path.startswith("./"):
        path = path[2:]
    return path_glob(glob).matches(path)
