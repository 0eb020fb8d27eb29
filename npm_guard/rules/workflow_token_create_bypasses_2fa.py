"""workflow-token-create-bypasses-2fa: npm token create with --bypass-2fa."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import TOKEN_CREATE_TIP, token_create_findings

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
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
    return token_create_findings(workflow, RULE, _problem)


def _problem(create: TokenCreate) -> str | None:
    if "--bypass-2fa" not in create.flags:
        return None
    if create.flags["--bypass-2fa"] in ("false", "0"):
        return None
    return (
        "uses `--bypass-2fa`: whoever holds the token can publish without any second "
        "factor, until npm stops accepting bypass-2FA tokens for direct publishing in "
        "January 2027 (npm 11.20.0 / 12.1.0 and later warn so); a workflow that publishes "
        "with it breaks then"
    )
