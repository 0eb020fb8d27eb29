"""token-not-read-only: the token the audit was given can publish."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import token_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="token-not-read-only",
    summary="The npm token given to the audit has write (publish) permission",
    severity=Severity.WARNING,
    confidence=Confidence.HIGH,
    tip="Give the audit a read-only granular token (npm token create "
    "--packages-and-scopes-permission read-only); if this token must publish, declare it "
    "read-write in the policy's tokens: and prefer trusted publishing.",
    target="online",
    online=True,
)


def check(audit: AuditFacts) -> Iterator[Finding]:
    token = audit.token
    if token is None or not token.found or token.readonly is not False:
        return
    spec = token.spec
    if spec is not None and spec.permission != "read-only":
        return
    why = (
        "the policy declares it read-only"
        if spec is not None
        else "an audit needs read access only, and a leaked write token publishes malware"
    )
    yield token_finding(
        RULE,
        audit,
        token,
        message=f"the {token.subject} has read-write permission: {why}",
    )
