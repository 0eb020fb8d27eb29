"""publish-version-staged: a recent version waits for a maintainer to approve it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import package_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts, PackageFacts

RULE = Rule(
    id="publish-version-staged",
    summary="A recent version is staged and waits for a maintainer to approve it with 2FA",
    severity=Severity.NOTE,
    confidence=Confidence.HIGH,
    tip="If the release is yours, approve it (npm stage list <package>, then npm stage "
    "approve <id> with your one-time password, or on npmjs.com); if it is not, reject it "
    "(npm stage reject <id>) and find out who staged it.",
    target="online",
)

_APPROVERS = ("maintainer", "collaborator (write)")


def approvers(package: PackageFacts) -> str:
    """Who can approve a staged release: the accounts with publish access, in words."""
    names = [a.name for a in package.accounts if any(r in _APPROVERS for r in a.roles)]
    if not names:
        return "a maintainer of the package"
    if len(names) == 1:
        return names[0]
    return "one of " + ", ".join(names)


def check(audit: AuditFacts) -> Iterator[Finding]:
    from npm_guard.audit.facts import VersionState

    for package in audit.packages:
        for status in package.statuses or ():
            if status.state is not VersionState.STAGED:
                continue
            yield package_finding(
                RULE,
                package,
                subject=f"version {status.version}",
                message=f"{package.name}@{status.version} is staged and waits for approval: "
                f"{approvers(package)} can approve it with 2FA (npm stage list "
                f"{package.name}, then npm stage approve <id>), or reject it if it is not "
                f"yours ({status.endpoint})",
                extra={"version": status.version, "status": status.state.value},
            )
