"""workflow-token-create-not-read-only: npm token create without read-only permission."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.lazy_pattern import lazy_compile
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


# What npm accepts for `--packages-and-scopes-permission` (npm 12.2.3 `@npmcli/config`
# definitions.js 2343-2354); anything else it drops with a warning, and the registry
# picks the permission.
_PERMISSIONS = ("read-only", "read-write", "read-write-stage-only", "no-access")
_SHOWABLE = lazy_compile(r"[A-Za-z-]{1,32}")


def _problem(create: TokenCreate) -> str | None:
    flags = create.flags
    raw = (flags.get("--packages-and-scopes-permission") or "").strip()
    permission = raw if raw in _PERMISSIONS else ""
    orgs = (flags.get("--orgs-permission") or "").strip()
    if orgs == "read-write":
        return (
            "asks for `--orgs-permission read-write`: the token can manage the "
            "organisation's members and teams"
        )
    # A stage-only token (npm >= 11.20.0 / 12.1.0) cannot publish directly: a maintainer
    # approves each staged release with 2FA (npm 12.2.3 token.js 174-191).
    if permission in ("read-only", "read-write-stage-only"):
        return None
    if permission == "read-write":
        return "creates a read-write token: if it leaks, it can publish"
    dropped = ""
    if raw and not permission:
        value = f"`{raw}`" if _SHOWABLE.fullmatch(raw) else "its value"
        dropped = (
            f" (`--packages-and-scopes-permission` {value} is none npm accepts: npm drops "
            "it with a warning and the registry picks the permission)"
        )
    if flags.get("--read-only") == "true":
        # npm >= 11.6.3 creates granular tokens and never reads `read-only` (12.2.3
        # token.js create() 156-238); older npm sends it for a classic token, which the
        # registry no longer creates (since 2025-11-05).
        return (
            "asks for read-only with `--read-only`, which `npm token create` ignores "
            "(npm 11.6.3 and later never read it; older npm asks for a classic token, which "
            "the registry no longer creates): ask for `--packages-and-scopes-permission "
            f"read-only`{dropped}"
        )
    return (
        "does not ask for read-only permission (`--packages-and-scopes-permission "
        "read-only`) nor for stage-only (`read-write-stage-only`): if the token leaks, it "
        f"may publish{dropped}"
    )
