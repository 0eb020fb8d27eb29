"""workflow-publish-with-long-lived-token: a publish authenticated by a stored token."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import (
    TRUSTED_PUBLISHING_TIP,
    is_npmjs,
    live_publishes,
    presumed_confidence,
    publishing_credentials,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import Workflow

RULE = Rule(
    id="workflow-publish-with-long-lived-token",
    summary="A publish that authenticates with a stored npm token instead of trusted publishing",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip=TRUSTED_PUBLISHING_TIP,
    target="workflow",
)


def check(workflow: Workflow) -> Iterator[Finding]:
    for step in workflow.steps():
        for number, publish in enumerate(live_publishes(step), start=1):
            candidates = publishing_credentials(step, publish)
            if not candidates:
                continue
            credential, read = candidates[0]
            others = len(candidates) - 1
            more = f" (and {others} more)" if others else ""
            hedge = "" if read else _unread(credential.name, publish.command)
            if publish.inferred:
                hedge += f"; {publish.inferred}"
            confidence = presumed_confidence(publish, None if read else Confidence.MEDIUM)
            yield Finding(
                rule=RULE,
                location=workflow.location(publish.span),
                message=(
                    f"{step.job.label}, {step.label}: {publish.shown} publishes with a "
                    f"long-lived token, {credential.description}{more}, {credential.where}, "
                    f"instead of trusted publishing (OIDC){hedge}"
                ),
                key=f"{step.key}/publish:{publish.command}:{number}",
                confidence=confidence,
                severity=Severity.WARNING if confidence is Confidence.LOW else None,
                properties={"credential": credential.name, "publish": publish.command},
            )
    for job in workflow.jobs:
        for publish in job.call_publishes:
            handed = [c for c in workflow.credentials if c.job is job and c.via == "secrets"]
            if not handed or not is_npmjs(publish.registry):
                continue
            credential = handed[0]
            more = f" (and {len(handed) - 1} more)" if len(handed) > 1 else ""
            yield Finding(
                rule=RULE,
                location=workflow.location(publish.span),
                message=(
                    f"{job.label} passes a long-lived token, {credential.description}{more}, "
                    f"to {publish.shown} instead of publishing with trusted publishing "
                    f"(OIDC); {publish.inferred}"
                ),
                key=f"{job.key}/call-publish",
                confidence=presumed_confidence(publish, None),
                properties={"credential": credential.name, "publish": publish.command},
            )


def _unread(name: str, command: str) -> str:
    """Why the credential may not be what the publish authenticates with."""
    setup_node = (
        "no actions/setup-node step with `registry-url` earlier in the job (it writes one), "
        if name == "NODE_AUTH_TOKEN"
        else ""
    )
    return (
        f"; {command} reads {name} only through an .npmrc that refers to ${{{name}}}, and "
        f"none is known here: {setup_node}no such reference in the repository's .npmrc "
        f"or in one an earlier step writes"
    )
