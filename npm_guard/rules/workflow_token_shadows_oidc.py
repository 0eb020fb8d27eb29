"""workflow-token-shadows-oidc: `id-token: write` and an npm token in the same job."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import live_publishes, publishing_credentials

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import Workflow

RULE = Rule(
    id="workflow-token-shadows-oidc",
    summary="A job set up for trusted publishing also hands npm a token, which wins",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Remove the token from this job (NODE_AUTH_TOKEN / NPM_TOKEN in env:, the token "
    "input, the .npmrc line): with `id-token: write`, actions/setup-node's `registry-url` "
    "and npm >= 11.5.1, `npm publish` authenticates through OIDC. Then revoke the token.",
    target="workflow",
)


def check(workflow: Workflow) -> Iterator[Finding]:
    reported: set[tuple[int, int]] = set()  # one finding per place a token is given
    for job in workflow.jobs:
        if job.id_token_write() is not True:
            continue
        grant = job.id_token_span()
        grant_line = f" (line {grant.line})" if grant is not None else ""
        for step in job.steps:
            for publish in live_publishes(step):
                for credential, read in publishing_credentials(step, publish):
                    place = (credential.span.line, credential.span.column)
                    if place in reported:
                        continue
                    reported.add(place)
                    hedge = (
                        ""
                        if read
                        else f" (if an .npmrc refers to ${{{credential.name}}}, as it "
                        f"usually does when the variable is set)"
                    )
                    yield Finding(
                        rule=RULE,
                        location=workflow.location(credential.span),
                        message=(
                            f"{job.label} grants `id-token: write`{grant_line} for trusted "
                            f"publishing, but {credential.description}, {credential.where}, "
                            f"reaches {step.label} ({publish.shown}, line {publish.span.line})"
                            f": npm authenticates with the token{hedge} and OIDC is silently "
                            f"unused"
                        ),
                        key=f"{credential.key}/shadows-oidc",
                        confidence=None if read else Confidence.MEDIUM,
                        properties={"credential": credential.name},
                    )
