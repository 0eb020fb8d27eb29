"""maintainer-2fa-disabled: an account that can publish has 2FA off, or never finished it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import account_properties, package_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="maintainer-2fa-disabled",
    summary="A publishing maintainer has two-factor authentication turned off",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Turn 2FA on in auth-and-writes mode (a security key on npmjs.com, or npm profile "
    "enable-2fa auth-and-writes), or remove the account: npm owner rm <name> <package>.",
    target="online",
)


def check(audit: AuditFacts) -> Iterator[Finding]:
    from npm_guard.audit.facts import TwoFactorMode, Verdict

    for package in audit.packages:
        for account, verdict in package.verdicts():
            if verdict is not Verdict.DISABLED:
                continue
            if account.evidence.mode is TwoFactorMode.PENDING:
                state = "started 2FA setup and never finished it, so 2FA is not enabled"
            else:
                state = "has 2FA disabled"
            yield package_finding(
                RULE,
                package,
                subject=f"maintainer {account.name}",
                message=f"{account.name} can publish {package.name} ({account.can_publish}) "
                f"and {state} (evidence: {account.evidence.detail})",
                extra=account_properties(account),
            )
