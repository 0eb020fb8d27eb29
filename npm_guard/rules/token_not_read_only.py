"""token-not-read-only: the token the audit was given can publish, stage or unpublish."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import token_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts, TokenFacts

RULE = Rule(
    id="token-not-read-only",
    summary="The npm token given to the audit has write (publish) permission",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Give the audit a read-only granular token (npm token create "
    "--packages-and-scopes-permission read-only): it needs nothing more. A token CI must "
    "publish with is a stage-only one (--packages-and-scopes-permission="
    "read-write-stage-only, npm 11.20.0 / 12.1.0 or later), or none at all with trusted "
    "publishing; declare such a token read-write or stage-only under tokens: in the policy.",
    target="online",
)

# What a stage-only token may do (npm/documentation PR #2036, "About stage-only tokens").
STAGE_ONLY_CAN = (
    "it cannot publish directly (npm refuses with E_STAGE_REQUIRED), but it can stage a "
    "release for a maintainer to approve with 2FA, deprecate versions, move dist-tags and "
    "unpublish"
)


def what_it_can_do(token: TokenFacts) -> str:
    """A read-write token's permission in words, stage-only or not as far as the list says."""
    if token.stage_only is True:
        return f"read-write stage-only permission: {STAGE_ONLY_CAN}"
    if token.stage_only is False:
        return "read-write permission and publishes directly (it is not stage-only)"
    return "read-write permission (the token list does not say whether it is stage-only)"


def check(audit: AuditFacts) -> Iterator[Finding]:
    token = audit.token
    if token is None or not token.found or token.readonly is not False:
        return
    spec = token.spec
    if spec is not None and spec.permission == "stage-only":
        if token.stage_only is False:
            yield token_finding(
                RULE,
                audit,
                token,
                message=f"the {token.subject} is declared stage-only in the policy, but the "
                f"token list says it publishes directly: a copy of it publishes without "
                f"anyone's approval",
            )
        return
    if spec is not None and spec.permission != "read-only":
        return
    why = (
        "the policy declares it read-only"
        if spec is not None
        else "an audit needs read access only, and a leaked write token can ship malware"
    )
    yield token_finding(
        RULE,
        audit,
        token,
        message=f"the {token.subject} has {what_it_can_do(token)}; {why}",
    )
