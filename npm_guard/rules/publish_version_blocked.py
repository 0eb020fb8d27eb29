"""publish-version-blocked: a recent version failed npm's validation and cannot be installed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import package_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="publish-version-blocked",
    summary="A recent version is blocked: it did not pass npm's automated validation and "
    "cannot be installed",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Check who published it and how (npm view <package>@<version> _npmUser); if it is "
    "yours, publish a fixed version and ask npm support why it was blocked; if it is not, "
    "revoke the tokens and sessions that can publish the package.",
    target="online",
)


def check(audit: AuditFacts) -> Iterator[Finding]:
    from npm_guard.audit.facts import VersionState

    for package in audit.packages:
        for status in package.statuses or ():
            if status.state is not VersionState.BLOCKED:
                continue
            yield package_finding(
                RULE,
                package,
                subject=f"version {status.version}",
                message=f"{package.name}@{status.version} is blocked: it did not pass npm's "
                f"automated validation and cannot be installed ({status.endpoint})",
                extra={"version": status.version, "status": status.state.value},
            )
