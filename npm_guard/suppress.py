"""Inline suppressions: which findings a comment in the scanned file silences.

Both forms (`ignore-next-line[…]` in `.npmrc`, a trailing `ignore[…]` in YAML) need a
reason after the `]`. One without a reason silences nothing: the finding stays, and
its message says the comment was not taken and why. A security tool is not silenced
without a word of explanation, and a reviewer sees the reason next to the exception.
"""

from __future__ import annotations

from collections.abc import Iterable

from npm_guard._record import dataclass, replace
from npm_guard.findings import BY_COMMENT, Finding, Suppressed
from npm_guard.lazy_pattern import lazy_compile

# `# npm-guard: ignore-next-line[rule-id, other-id] reason` (npmrc, `#` or `;`)
NEXT_LINE_RE = lazy_compile(r"^[#;]\s*npm-guard:\s*ignore-next-line\[([A-Za-z0-9_,\s-]+)\]\s*(.*)$")
# `# npm-guard: ignore[rule-id] reason` at the end of a YAML line
TRAILING_RE = lazy_compile(r"npm-guard:\s*ignore\[([A-Za-z0-9_,\s-]+)\]\s*(.*)$")


@dataclass(frozen=True)
class Suppression:
    line: int  # the line whose findings are silenced
    rule_ids: frozenset[str]
    reason: str

    def covers(self, finding: Finding) -> bool:
        return finding.location.line == self.line and finding.rule.id in self.rule_ids

    @property
    def has_reason(self) -> bool:
        """A reason is some text after the `]`: a word, not only punctuation."""
        return any(c.isalnum() for c in self.reason)


def parse_rule_list(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


NO_REASON = (
    " (an `npm-guard: ignore` comment names this rule but gives no reason, so it does not "
    "silence it: write the reason after the `]`)"
)


def apply(
    findings: Iterable[Finding],
    suppressions: Iterable[Suppression],
    silenced: list[Suppressed] | None = None,
) -> list[Finding]:
    """The findings no suppression with a reason covers; those only a reasonless one
    covers are kept, their message saying a reason is required. The silenced ones go to
    `silenced`, when given, with the comment's reason."""
    active = list(suppressions)
    kept: list[Finding] = []
    for finding in findings:
        covering = [s for s in active if s.covers(finding)]
        reasoned = [s for s in covering if s.has_reason]
        if reasoned:
            if silenced is not None:
                silenced.append(Suppressed(finding, BY_COMMENT, reasoned[0].reason))
            continue
        if covering:
            finding = replace(
                finding,
                message=finding.message + NO_REASON,
                properties={**finding.properties, "suppression": "ignored: no reason"},
            )
        kept.append(finding)
    return kept
