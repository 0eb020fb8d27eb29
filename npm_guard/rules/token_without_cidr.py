"""token-without-cidr: the token works from any IP address."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import token_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts

RULE = Rule(
    id="token-without-cidr",
    summary="The npm token given to the audit has no CIDR allow-list, or a wider one than "
    "the policy declares",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Create the token with --cidr for the ranges your CI egresses from, so a leaked "
    "copy is useless elsewhere; declare the ranges under tokens: in the policy.",
    target="online",
)


def outside(allowed: Sequence[str], declared: Sequence[str]) -> list[str]:
    """The token's ranges that do not lie inside any range the policy declares."""
    import ipaddress

    networks = []
    for text in declared:
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            continue
    wider = []
    for text in allowed:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            wider.append(text)
            continue
        if not any(
            network.version == d.version and network.subnet_of(d)  # type: ignore[arg-type]
            for d in networks
        ):
            wider.append(text)
    return wider


def check(audit: AuditFacts) -> Iterator[Finding]:
    token = audit.token
    if token is None or not token.found or token.cidr is None:
        return
    if not token.cidr:
        yield token_finding(
            RULE,
            audit,
            token,
            message=f"the {token.subject} has no CIDR allow-list: anyone holding a copy can "
            f"use it from anywhere",
        )
        return
    if token.spec is not None and token.spec.cidr:
        wider = outside(token.cidr, token.spec.cidr)
        if wider:
            yield token_finding(
                RULE,
                audit,
                token,
                message=f"the {token.subject} allows {', '.join(wider)}, outside the ranges "
                f"the policy declares ({', '.join(token.spec.cidr)})",
            )
