"""maintainer-2fa-unverified: no evidence of a publishing maintainer's 2FA mode."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import account_properties, package_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="maintainer-2fa-unverified",
    summary="No evidence that a publishing maintainer has 2FA in the required mode",
    severity=Severity.WARNING,
    confidence=Confidence.MEDIUM,
    tip="No registry API shows another user's 2FA: ask the maintainer to run "
    "`npm-guard attest --write` with their own npm login and commit the entry, or run the "
    "audit with that maintainer's token. `audit.unverified-2fa` in the policy sets the severity.",
    target="online",
)


def check(audit: AuditFacts) -> Iterator[Finding]:
    from npm_guard.audit.facts import Verdict

    for package in audit.packages:
        for account, verdict in package.verdicts():
            if verdict is Verdict.UNVERIFIED:
                severity = package.settings.unverified_2fa
                detail = account.evidence.detail
                what = "there is no evidence of their 2FA"
                if detail != "no evidence":
                    what += f" ({detail})"
            elif verdict is Verdict.PROVEN_MODE_UNKNOWN:
                severity = Severity.NOTE
                what = (
                    f"2FA is proven ({account.evidence.detail}) but its mode is unknown, and "
                    f"the policy requires {package.settings.require_2fa}"
                )
            else:
                continue
            yield package_finding(
                RULE,
                package,
                subject=f"maintainer {account.name}",
                message=f"{account.name} can publish {package.name} ({account.can_publish}) "
                f"and {what}",
                severity=severity,
                extra=account_properties(account),
            )
