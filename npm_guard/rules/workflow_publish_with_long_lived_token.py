"""workflow-publish-with-long-lived-token: a publish authenticated by a stored token.

One finding per step and token, at the step's first publish with it: a script that
publishes from both branches of an `if`, or once per package, is one publish step.
"""

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
    from npm_guard.workflow.model import NpmCredential, Publish, Step, Workflow

OIDC_FIRST = "oidc-first"  # npm_guard.workflow.model.OIDC_FIRST, not imported (start-up)

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
        by_token: dict[int, _StepPublishes] = {}
        for publish in live_publishes(step):
            candidates = publishing_credentials(step, publish)
            if not candidates:
                continue
            credential, read = candidates[0]
            found = by_token.get(id(credential))
            if found is None:
                by_token[id(credential)] = _StepPublishes(publish, credential, read, candidates)
            else:
                found.count += 1
                found.read = found.read or read
        for found in by_token.values():
            yield _finding(workflow, step, found)
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


class _StepPublishes:
    """The publishes of one step that authenticate with one token: the first, and how many."""

    def __init__(
        self,
        publish: Publish,
        credential: NpmCredential,
        read: bool,
        candidates: list[tuple[NpmCredential, bool]],
    ) -> None:
        self.publish = publish
        self.credential = credential
        self.read = read
        self.others = len(candidates) - 1
        self.count = 1


def _finding(workflow: Workflow, step: Step, found: _StepPublishes) -> Finding:
    publish, credential = found.publish, found.credential
    more = f" (and {found.others} more)" if found.others else ""
    hedge = "" if found.read else _unread(credential.name, publish.command)
    if publish.inferred:
        hedge += f"; {publish.inferred}"
    confidence = presumed_confidence(publish, None if found.read else Confidence.MEDIUM)
    token = f"a long-lived token, {credential.description}{more}, {credential.where}"
    repeated = found.count - 1
    also = (
        f" (and {repeated} more publish command{'s' if repeated != 1 else ''} of this step)"
        if repeated
        else ""
    )
    use = step.facts.oidc_use(publish)
    if use is not None and use.order == OIDC_FIRST and step.job.id_token_write() is True:
        what = (
            f"falls back to {token}, when its trusted publishing (OIDC) exchange fails: it "
            f"runs {use.tool}"
        )
    else:
        what = f"publishes with {token}, instead of trusted publishing (OIDC)"
    return Finding(
        rule=RULE,
        location=workflow.location(publish.span),
        message=f"{step.job.label}, {step.label}: {publish.shown}{also} {what}{hedge}",
        key=f"{step.key}/publish:{credential.key}",
        confidence=confidence,
        severity=Severity.WARNING if confidence is Confidence.LOW else None,
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
