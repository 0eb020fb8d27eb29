"""maintainer-2fa-auth-only: 2FA protects the login but not publishing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import (
    account_properties,
    evidence_confidence,
    package_finding,
)

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="maintainer-2fa-auth-only",
    summary="A publishing maintainer's 2FA covers login only, not publishing",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Switch 2FA to auth-and-writes (npm profile enable-2fa auth-and-writes, or the "
    "account's 2FA settings on npmjs.com) so publishing, dist-tags, access and owner "
    "changes need a second factor too.",
    target="online",
)


def check(audit: AuditFacts) -> Iterator[Finding]:
    from npm_guard.audit.facts import Verdict

    for package in audit.packages:
        for account, verdict in package.verdicts():
            if verdict is not Verdict.AUTH_ONLY:
                continue
            yield package_finding(
                RULE,
                package,
                subject=f"maintainer {account.name}",
                message=f"{account.name} can publish {package.name} ({account.can_publish}) "
                f"with 2FA in auth-only mode, and the policy requires "
                f"{package.settings.require_2fa} (evidence: {account.evidence.detail})",
                confidence=evidence_confidence(account),
                extra=account_properties(account),
            )
