"""Shared by the online rules: findings that carry `package` (or `packages`) and `subject`.

A finding about one package names it in `package`. A finding about the audit's token,
or a run-wide gap, is about no one package: it names the audited packages on the
token's registry in `packages` (comma-separated), and has no `package`, so anything
that groups findings by `package` never files a token finding under one of them.

Online rules read `npm_guard.audit.facts` only; they never fetch, print or read the
environment. The facts module is imported lazily so the hooks, which import the rule
registry, do not pay for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity

if TYPE_CHECKING:
    from npm_guard.audit.facts import Account, AuditFacts, PackageFacts, TokenFacts


def package_finding(
    rule: Rule,
    package: PackageFacts,
    *,
    subject: str,
    message: str,
    severity: Severity | None = None,
    confidence: Confidence | None = None,
    extra: Mapping[str, str] | None = None,
) -> Finding:
    """A finding about `subject` ("maintainer alice", "version 1.2.0") of one package."""
    properties = {"package": package.name, "subject": subject, "registry": package.registry}
    properties.update(extra or {})
    return Finding(
        rule=rule,
        location=package.location,
        message=message,
        key=f"{package.name} / {subject}",
        severity=severity,
        confidence=confidence,
        properties=properties,
    )


def account_properties(account: Account) -> dict[str, str]:
    return {
        "evidence": account.evidence.kind.value,
        "mode": account.evidence.mode.value,
        "evidence_detail": account.evidence.detail,
        "can_publish": account.can_publish,
    }


def evidence_confidence(account: Account) -> Confidence:
    """Own profile: high; a self-attestation or an approval: medium."""
    from npm_guard.audit.facts import EvidenceKind

    return Confidence.HIGH if account.evidence.kind is EvidenceKind.PROFILE else Confidence.MEDIUM


def token_properties(audit: AuditFacts, subject: str, registry: str) -> dict[str, str]:
    """`subject`, `registry` and, when there are any, the `packages` the token served."""
    properties = {"subject": subject, "registry": registry}
    if audit.token_packages:
        properties["packages"] = ", ".join(audit.token_packages)
    return properties


def token_finding(rule: Rule, audit: AuditFacts, token: TokenFacts, *, message: str) -> Finding:
    """A finding about the audit's own token, pointing at its policy entry if any."""
    return Finding(
        rule=rule,
        location=token.location,
        message=message,
        key=f"token {token.env}",
        properties=token_properties(audit, token.subject, token.registry),
    )
