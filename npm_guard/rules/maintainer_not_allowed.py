"""maintainer-not-allowed: the registry lists a maintainer the policy does not allow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import package_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="maintainer-not-allowed",
    summary="An account can publish the package but is not in the policy's maintainers",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="If the account should not publish, remove it (npm owner rm <name> <package>, or "
    "revoke its team or collaborator access) and rotate what it could reach; if it should, "
    "add it to the package's maintainers in .npm-guard.yml.",
    target="online",
)

_PUBLISHING_ROLES = ("maintainer", "collaborator (write)")


def check(audit: AuditFacts) -> Iterator[Finding]:
    for package in audit.packages:
        if package.policy is None or package.policy.maintainers is None:
            continue
        allowed = {name.lower() for name in package.policy.maintainers}
        for account in package.accounts:
            roles = [r for r in account.roles if r in _PUBLISHING_ROLES]
            if not roles or account.name.lower() in allowed:
                continue
            shown = ", ".join(sorted(package.policy.maintainers)) or "nobody"
            yield package_finding(
                RULE,
                package,
                subject=f"maintainer {account.name}",
                message=f"{account.name} can publish {package.name} ({', '.join(roles)}) but "
                f"the policy allows only: {shown}",
                extra={"can_publish": ", ".join(roles)},
            )
