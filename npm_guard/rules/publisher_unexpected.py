"""publisher-unexpected: a recent version came from an account or workflow not expected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import package_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts
    from npm_guard.policy import PackagePolicy

RULE = Rule(
    id="publisher-unexpected",
    summary="A recent version was published by an account or workflow the policy does not expect",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Check the version (npm view <package>@<version> _npmUser dist.attestations): if it "
    "is not yours, deprecate it, revoke the publisher's tokens and sessions, and tell npm "
    "security; if it is, declare the publisher in .npm-guard.yml (trusted: or accounts:).",
    target="online",
)


def _expected(policy: PackagePolicy) -> str:
    parts = []
    if policy.trusted is not None:
        where = policy.trusted.repository
        if policy.trusted.workflow:
            where += f" ({policy.trusted.workflow})"
        parts.append(f"trusted publishing from {where}")
    if policy.accounts:
        parts.append("the accounts " + ", ".join(policy.accounts))
    return " or ".join(parts) or "no publisher"


def check(audit: AuditFacts) -> Iterator[Finding]:
    for package in audit.packages:
        policy = package.policy
        if policy is None or (policy.trusted is None and policy.accounts is None):
            continue
        accounts = {a.lower() for a in policy.accounts or ()}
        for version in package.recent:
            if version.trusted_publisher:
                if policy.trusted is not None:
                    continue
            elif version.publisher:
                if version.publisher.lower() in accounts:
                    continue
            else:
                continue  # no publisher recorded: an audit-incomplete gap, not a verdict
            yield package_finding(
                RULE,
                package,
                subject=f"version {version.version}",
                message=f"{package.name}@{version.version} was published by {version.how}; "
                f"the policy expects {_expected(policy)}",
                extra={
                    "version": version.version,
                    "publisher": version.publisher or "",
                    "trusted_publisher": version.trusted_publisher or "",
                },
            )
