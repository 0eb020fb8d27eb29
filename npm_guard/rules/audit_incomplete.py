"""audit-incomplete: something the online audit could not verify. Never a silent pass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="audit-incomplete",
    summary="Part of the online audit could not be verified",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Read the reason: retry when the registry is reachable, give the audit a token that "
    "may read what it names, or accept the gap explicitly by lowering this rule's severity "
    "in .npm-guard.yml. An audit that could not verify is not a pass.",
    target="online",
)


def check(audit: AuditFacts) -> Iterator[Finding]:
    from npm_guard.rules._online_common import token_properties

    for gap in audit.gaps:
        # Run-wide gaps come from the token owner's profile, on the token's registry.
        properties = (
            token_properties(audit, gap.subject, audit.token_registry)
            if audit.token_registry is not None
            else {"subject": gap.subject}
        )
        yield Finding(
            rule=RULE,
            location=audit.gap_location,
            message=f"{gap.subject}: {gap.reason}",
            key=f"audit / {gap.subject}",
            severity=gap.severity,
            properties=properties,
        )
    for package in audit.packages:
        for gap in package.gaps:
            yield Finding(
                rule=RULE,
                location=package.location,
                message=f"{package.name}: {gap.subject}: {gap.reason}",
                key=f"{package.name} / {gap.subject}",
                severity=gap.severity,
                properties={
                    "package": package.name,
                    "subject": gap.subject,
                    "registry": package.registry,
                },
            )
    token = audit.token
    if token is not None:
        for gap in token.gaps:
            yield Finding(
                rule=RULE,
                location=token.location,
                message=f"{gap.subject}: {gap.reason}",
                key=f"token {token.env} / incomplete",
                severity=gap.severity,
                properties=token_properties(audit, gap.subject, token.registry),
            )
