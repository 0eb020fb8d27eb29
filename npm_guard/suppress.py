"""Inline suppressions: which findings a comment in the scanned file silences."""

from __future__ import annotations

import re
from collections.abc import Iterable

from npm_guard._record import dataclass
from npm_guard.findings import Finding

# `# npm-guard: ignore-next-line[rule-id, other-id] reason` (npmrc, `#` or `;`)
NEXT_LINE_RE = re.compile(r"^[#;]\s*npm-guard:\s*ignore-next-line\[([A-Za-z0-9_,\s-]+)\]\s*(.*)$")
# `# npm-guard: ignore[rule-id] reason` at the end of a YAML line
TRAILING_RE = re.compile(r"npm-guard:\s*ignore\[([A-Za-z0-9_,\s-]+)\]\s*(.*)$")


@dataclass(frozen=True)
class Suppression:
    line: int  # the line whose findings are silenced
    rule_ids: frozenset[str]
    reason: str

    def covers(self, finding: Finding) -> bool:
        return finding.location.line == self.line and finding.rule.id in self.rule_ids


def parse_rule_list(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def apply(findings: Iterable[Finding], suppressions: Iterable[Suppression]) -> list[Finding]:
    """The findings no suppression covers."""
    active = list(suppressions)
    return [f for f in findings if not any(s.covers(f) for s in active)]
