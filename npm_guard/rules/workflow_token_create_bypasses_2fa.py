"""workflow-token-create-bypasses-2fa: npm token create with --bypass-2fa."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import TOKEN_CREATE_TIP, token_creates

if TYPE_CHECKING:
    from npm_guard.workflow.model import TokenCreate, Workflow

RULE = Rule(
    id="workflow-token-create-bypasses-2fa",
    summary="npm token create with --bypass-2fa",
    severity=Severity.WARNING,
    confidence=Confidence.HIGH,
    tip=TOKEN_CREATE_TIP,
    target="workflow",
)


def check(workflow: Workflow) -> Iterator[Finding]:
    for step, create, number, where in token_creates(workflow):
        problem = _problem(create)
        if problem is None:
            continue
        yield Finding(
            rule=RULE,
            location=workflow.location(create.span),
            message=f"`npm token create` {where} {problem}",
            key=f"{step.key}/token-create:{number}",
        )


def _problem(create: TokenCreate) -> str | None:
    if "--bypass-2fa" not in create.flags:
        return None
    if create.flags["--bypass-2fa"] in ("false", "0"):
        return None
    return (
        "uses `--bypass-2fa`: whoever holds the token can publish without any second "
        "factor (npm is phasing direct publishing with such tokens out)"
    )
