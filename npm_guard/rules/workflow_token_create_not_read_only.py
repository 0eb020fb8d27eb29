"""workflow-token-create-not-read-only: npm token create without read-only permission."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import TOKEN_CREATE_TIP, token_create_findings

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import TokenCreate, Workflow

RULE = Rule(
    id="workflow-token-create-not-read-only",
    summary="npm token create without read-only permission",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip=TOKEN_CREATE_TIP,
    target="workflow",
)


def check(workflow: Workflow) -> Iterator[Finding]:
    return token_create_findings(workflow, RULE, _problem)


def _problem(create: TokenCreate) -> str | None:
    flags = create.flags
    permission = (flags.get("--packages-and-scopes-permission") or "").strip().lower()
    legacy = "--read-only" in flags and flags["--read-only"] not in ("false", "0")
    orgs = (flags.get("--orgs-permission") or "").strip().lower()
    if orgs == "read-write":
        return (
            "asks for `--orgs-permission read-write`: the token can manage the "
            "organisation's members and teams"
        )
    # A stage-only token (npm >= 11.20.0 / 12.1.0) cannot publish directly: a maintainer
    # approves each staged release with 2FA (npm 12.2.3 token.js 174-191).
    if permission in ("read-only", "read-write-stage-only") or (legacy and not permission):
        return None
    if permission == "read-write":
        return "creates a read-write token: if it leaks, it can publish"
    return (
        "does not ask for read-only permission (`--packages-and-scopes-permission "
        "read-only`, or the legacy `--read-only`) nor for stage-only "
        "(`read-write-stage-only`): if the token leaks, it may publish"
    )
