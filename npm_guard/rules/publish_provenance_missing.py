"""publish-provenance-missing: a recent version has no provenance, and the policy wants it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import package_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="publish-provenance-missing",
    summary="A recent version has no provenance attestation although the policy requires one",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Publish from CI with trusted publishing (provenance is automatic for a public "
    "repository and package) or npm publish --provenance; check who published the version "
    "without it.",
    target="online",
)


def check(audit: AuditFacts) -> Iterator[Finding]:
    for package in audit.packages:
        if package.policy is None or package.policy.provenance != "required":
            continue
        for version in package.recent:
            if version.provenance:
                continue
            yield package_finding(
                RULE,
                package,
                subject=f"version {version.version}",
                message=f"{package.name}@{version.version} has no provenance attestation "
                f"(published by {version.how}); the policy requires provenance",
                extra={"version": version.version},
            )
