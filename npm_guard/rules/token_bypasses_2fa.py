"""token-bypasses-2fa: the token publishes without a second factor, or since January
2027 no longer publishes at all."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import token_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts, TokenFacts

RULE = Rule(
    id="token-bypasses-2fa",
    summary="The npm token given to the audit bypasses two-factor authentication",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Replace it: publish through trusted publishing (OIDC), or with a stage-only token "
    "(npm token create --packages-and-scopes-permission=read-write-stage-only) whose "
    "releases a maintainer approves with 2FA; give the audit itself a read-only token. "
    "If the bypass is intended, declare `bypass-2fa: true` for it under tokens: in the "
    "policy (from January 2027 it is reported whatever the policy says).",
    target="online",
)

# npm 12.2.3 `lib/commands/token.js` 180-190 (also 11.20.0 and later): "Bypass-2FA tokens
# with direct-publish access will stop working in January 2027."
DIRECT_PUBLISH_ENDS = datetime.date(2027, 1, 1)
ENDS = "January 2027"


def _already_ended(token: TokenFacts) -> bool:
    return token.checked_at.astimezone(datetime.timezone.utc).date() >= DIRECT_PUBLISH_ENDS


def check(audit: AuditFacts) -> Iterator[Finding]:
    token = audit.token
    if token is None or not token.found or token.bypass_2fa is not True:
        return
    declared = token.spec is not None and token.spec.bypass_2fa
    direct = token.publishes_directly
    if direct and _already_ended(token):
        # Whatever the policy says: a declared bypass token is one a workflow relies on.
        yield token_finding(
            RULE,
            audit,
            token,
            message=f"the {token.subject} bypasses 2FA and can publish directly, which npm "
            f"stopped accepting in {ENDS}: it can no longer publish, so a workflow that "
            f"still publishes with it is broken, not just risky",
        )
        return
    if declared:
        if direct:
            finding = token_finding(
                RULE,
                audit,
                token,
                message=f"the {token.subject} bypasses 2FA, as the policy declares, and can "
                f"publish directly: npm stops accepting bypass-2FA tokens for direct "
                f"publishing in {ENDS}, and a workflow that publishes with it breaks then",
            )
            yield finding.with_severity(Severity.NOTE)
        return
    if direct:
        consequence = (
            f"whoever holds it can publish with no second factor until npm stops accepting "
            f"bypass-2FA tokens for direct publishing in {ENDS}"
        )
    elif token.stage_only:
        consequence = (
            "it is stage-only, so it cannot publish directly (nor is it affected by npm "
            f"ending direct publishing with bypass-2FA tokens in {ENDS}), but it can "
            "deprecate versions, move dist-tags and unpublish with no second factor"
        )
    else:
        consequence = "whoever holds it skips the second factor wherever npm would ask for one"
    yield token_finding(
        RULE, audit, token, message=f"the {token.subject} bypasses 2FA: {consequence}"
    )
