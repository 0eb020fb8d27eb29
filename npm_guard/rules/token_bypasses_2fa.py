"""token-bypasses-2fa: the token publishes without a second factor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import token_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="token-bypasses-2fa",
    summary="The npm token given to the audit bypasses two-factor authentication",
    severity=Severity.WARNING,
    confidence=Confidence.HIGH,
    tip="Replace it with a token without --bypass-2fa, and publish through trusted "
    "publishing (OIDC) or staged publishing approved with 2FA; if the bypass is intended, "
    "declare `bypass-2fa: true` for it under tokens: in the policy.",
    target="online",
    online=True,
)


def check(audit: AuditFacts) -> Iterator[Finding]:
    token = audit.token
    if token is None or not token.found or token.bypass_2fa is not True:
        return
    if token.spec is not None and token.spec.bypass_2fa:
        return
    yield token_finding(
        RULE,
        audit,
        token,
        message=f"the {token.subject} bypasses 2FA: whoever holds it can publish with no "
        f"second factor",
    )
