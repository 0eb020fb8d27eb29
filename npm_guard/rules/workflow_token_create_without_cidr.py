"""workflow-token-create-without-cidr: npm token create without a CIDR allow-list."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import TOKEN_CREATE_TIP, token_create_findings

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import TokenCreate, Workflow

RULE = Rule(
    id="workflow-token-create-without-cidr",
    summary="npm token create without a CIDR allow-list",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip=TOKEN_CREATE_TIP,
    target="workflow",
)


def check(workflow: Workflow) -> Iterator[Finding]:
    return token_create_findings(workflow, RULE, _problem)


def _problem(create: TokenCreate) -> str | None:
    if create.flags.get("--cidr") or "--cidr" in create.flags:
        return None
    return "has no `--cidr` allow-list: the token works from any address on the internet"
