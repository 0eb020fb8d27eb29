"""workflow-publish-with-long-lived-token: a publish authenticated by a stored token."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import (
    TRUSTED_PUBLISHING_TIP,
    live_publishes,
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
            hedge = (
                ""
                if read
                else f"; {publish.command} reads {credential.name} only through an .npmrc "
                f"that refers to it"
            )
            yield Finding(
                rule=RULE,
                location=workflow.location(publish.span),
                message=(
                    f"{step.job.label}, {step.label}: {publish.shown} publishes with a "
                    f"long-lived token, {credential.description}{more}, {credential.where}, "
                    f"instead of trusted publishing (OIDC){hedge}"
                ),
                key=f"{step.key}/publish:{publish.command}:{number}",
                confidence=None if read else Confidence.MEDIUM,
                properties={"credential": credential.name, "publish": publish.command},
            )
