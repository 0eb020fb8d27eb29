"""token-expiry-too-long: the token lives longer than the policy (or 90 days) allows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import token_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="token-expiry-too-long",
    summary="The npm token given to the audit never expires, or lives longer than allowed",
    severity=Severity.WARNING,
    confidence=Confidence.HIGH,
    tip="Create tokens with --expires (npm caps write tokens at 90 days) and rotate them; "
    "set `max-expiry-days` for the token under tokens: in the policy to choose the limit.",
    target="online",
)

DEFAULT_MAX_DAYS = 90


def check(audit: AuditFacts) -> Iterator[Finding]:
    token = audit.token
    if token is None or not token.found or not token.expiry_known:
        return
    spec = token.spec
    limit = spec.max_expiry_days if spec and spec.max_expiry_days else DEFAULT_MAX_DAYS
    source = "the policy's limit" if spec and spec.max_expiry_days else "the default limit"
    if token.expiry is None:
        yield token_finding(
            RULE,
            audit,
            token,
            message=f"the {token.subject} never expires ({source} is {limit} days)",
        )
        return
    start = token.created or token.checked_at
    lifetime = (token.expiry - start).total_seconds() / 86400
    if lifetime > limit + 1e-9:
        since = "from its creation" if token.created else "from now"
        yield token_finding(
            RULE,
            audit,
            token,
            message=f"the {token.subject} expires on {token.expiry.date().isoformat()}, "
            f"{lifetime:.0f} days {since}; {source} is {limit} days",
        )
