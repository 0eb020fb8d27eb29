"""What a rule reports: `Rule` metadata, `Location` and `Finding`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum

from npm_guard._record import dataclass, field, replace

DOCS_BASE = "https://github.com/npm-guard/npm-guard/blob/main/docs/rules.md"


class Severity(str, Enum):
    """How bad a finding is; `--fail-on` compares against this order."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.NOTE: 1, Severity.WARNING: 2, Severity.ERROR: 3}


class Confidence(str, Enum):
    """How sure the rule is that the finding is real."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Rule:
    """A rule's metadata, declared once in its module and listed in `npm_guard.rules`."""

    id: str
    summary: str
    severity: Severity
    confidence: Confidence
    tip: str
    target: str  # "npmrc", "workflow", "policy", "online" or "any": what the rule reads
    # A workflow rule that reads the policy's token inventory: `check(workflow, policy)`,
    # run only when the policy declares one (`tokens:`).
    needs_inventory: bool = False

    @property
    def docs_url(self) -> str:
        return f"{DOCS_BASE}#{self.id}"


@dataclass(frozen=True)
class Location:
    """A 1-based position in a file; `path` is relative to the scan root where possible."""

    path: str
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None


@dataclass(frozen=True)
class Finding:
    """One problem found by one rule at one location.

    `key` identifies what the finding is about without its position (for example
    `//registry.npmjs.org/:_authToken` or `job publish / env NODE_AUTH_TOKEN`), so the
    fingerprint survives edits above the finding. It must never hold a secret.
    `occurrence` tells apart findings that share rule, path and key (the same key on two
    lines, the same token in two comments): `number_occurrences()` sets it.
    """

    rule: Rule
    location: Location
    message: str
    key: str
    tip: str = ""
    severity: Severity | None = None
    confidence: Confidence | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    occurrence: int = 1

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def effective_severity(self) -> Severity:
        return self.severity if self.severity is not None else self.rule.severity

    @property
    def effective_confidence(self) -> Confidence:
        return self.confidence if self.confidence is not None else self.rule.confidence

    @property
    def effective_tip(self) -> str:
        return self.tip or self.rule.tip

    @property
    def fingerprint(self) -> str:
        """A stable hash of rule, path, key and occurrence: line numbers are left out on
        purpose. The first occurrence hashes as it did before occurrences were counted."""
        import hashlib

        parts = [self.rule.id, self.location.path, self.key]
        if self.occurrence > 1:
            parts.append(str(self.occurrence))
        raw = "\0".join(parts)
        return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def with_severity(self, severity: Severity) -> Finding:
        return replace(self, severity=severity)


# How a finding was silenced, in SARIF's words (`suppression.kind`).
BY_POLICY = "external"  # the policy file: a rule set to `off`, or an `ignore:` entry
BY_COMMENT = "inSource"  # an `npm-guard: ignore` comment with a reason, in the file itself


@dataclass(frozen=True)
class Suppressed:
    """A finding that the policy or an ignore comment silences: it fails nothing, and
    reports still show it (counted, listed in JSON, a suppressed SARIF result)."""

    finding: Finding
    kind: str  # BY_POLICY or BY_COMMENT
    justification: str  # the policy's or the comment's reason


def sort_key(finding: Finding) -> tuple[str, int, int, str]:
    """Order findings by file, then position, then rule id."""
    loc = finding.location
    return (loc.path, loc.line, loc.column, finding.rule.id)


def number_occurrences(findings: Sequence[Finding]) -> list[Finding]:
    """The findings in their order, each the n-th of its rule, path and key in file order.

    Every reporter that writes fingerprints calls this, so two findings never share one
    (code scanning would merge them into one alert) and the count, unlike a line number,
    does not change when lines are added above.
    """
    numbered = list(findings)
    seen: dict[tuple[str, str, str], int] = {}
    for index in sorted(range(len(numbered)), key=lambda i: sort_key(numbered[i])):
        finding = numbered[index]
        identity = (finding.rule.id, finding.location.path, finding.key)
        seen[identity] = occurrence = seen.get(identity, 0) + 1
        if finding.occurrence != occurrence:
            numbered[index] = replace(finding, occurrence=occurrence)
    return numbered
