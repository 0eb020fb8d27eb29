"""workflow-token-create-without-expiry: npm token create without an explicit expiry."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import TOKEN_CREATE_TIP, token_create_findings

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import TokenCreate, Workflow

RULE = Rule(
    id="workflow-token-create-without-expiry",
    summary="npm token create without an explicit expiry",
    severity=Severity.WARNING,
    confidence=Confidence.HIGH,
    tip=TOKEN_CREATE_TIP,
    target="workflow",
)


def check(workflow: Workflow) -> Iterator[Finding]:
    return token_create_findings(workflow, RULE, _problem)


def _problem(create: TokenCreate) -> str | None:
    if "--expires" in create.flags:
        return None
    return (
        "has no `--expires`: the registry picks the lifetime (7 days for read-write, "
        "30 for read-only, when this was written); say how long the token lives"
    )
