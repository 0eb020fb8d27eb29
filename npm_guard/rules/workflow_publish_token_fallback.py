"""workflow-publish-token-fallback: `id-token: write`, and still a token for the publish.

What the token then does depends on the publishing tool (`OidcUse`, from the job's
Node, npm and release-tool versions): npm >= 11.5.1 and the tools with an exchange of
their own try OIDC first, so the token is a dormant fallback that still publishes for
whoever steals it (a warning); older npm never tries OIDC, so `id-token: write` only
signs provenance and the token publishes (an error: upgrading npm is the fix, removing
the token would break the release); Yarn Berry sends a configured token before OIDC.
"""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import live_publishes, publishing_credentials

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import Job, NpmCredential, OidcUse, Publish, Step, Workflow

# The values of npm_guard.workflow.model's OIDC_FIRST etc. (not imported: registering the
# rules costs the .npmrc hook nothing).
OIDC_FIRST = "oidc-first"
TOKEN_FIRST = "token-first"
NO_OIDC = "no-oidc"

RULE = Rule(
    id="workflow-publish-token-fallback",
    summary="A job set up for trusted publishing still hands its publish a long-lived token",
    severity=Severity.WARNING,
    confidence=Confidence.HIGH,
    tip="Where the publishing tool tries OIDC first (npm >= 11.5.1, which Node >= 24.5 "
    "bundles; @semantic-release/npm >= 13.1; lerna >= 9; pnpm >= 11.0.7), remove the token "
    'from the job and revoke it, then choose "Require two-factor authentication and '
    "disallow tokens\" in the package's settings on npmjs.com, so that no token can publish "
    "it. Where the tool does not (older npm, Yarn Berry with a configured token, Yarn 1, "
    "bun), first upgrade npm (`npm install -g npm@11`, or Node 24) or switch the tool, "
    "check that a release publishes through OIDC, and only then remove the token: removed "
    "first, it breaks the release.",
    target="workflow",
)


def check(workflow: Workflow) -> Iterator[Finding]:
    reported: set[tuple[int, int]] = set()  # one finding per place a token is given
    for job in workflow.jobs:
        if job.id_token_write() is not True:
            continue
        for step in job.steps:
            for publish in live_publishes(step):
                for credential, read in publishing_credentials(step, publish):
                    place = (credential.span.line, credential.span.column)
                    if place in reported:
                        continue
                    reported.add(place)
                    yield _finding(workflow, job, step, publish, credential, read)


def _finding(
    workflow: Workflow,
    job: Job,
    step: Step,
    publish: Publish,
    credential: NpmCredential,
    read: bool,
) -> Finding:
    from npm_guard.workflow.model import UNKNOWN_ORDER, OidcUse

    use = step.facts.oidc_use(publish) or OidcUse(UNKNOWN_ORDER, "a tool not known here")
    grant = job.id_token_span()
    grant_line = f" (line {grant.line})" if grant is not None else ""
    token = f"{credential.description}, {credential.where}"
    hedge = (
        ""
        if read
        else f" (if an .npmrc refers to ${{{credential.name}}}, as it usually does when "
        f"the variable is set)"
    )
    opening = (
        f"{job.label} grants `id-token: write`{grant_line} for trusted publishing, and "
        f"{publish.shown} in {step.label} (line {publish.span.line}) runs {use.tool}"
    )
    severity, what = _consequence(use, token, hedge)
    confidence: Confidence | None = None
    if use.order not in (OIDC_FIRST, TOKEN_FIRST, NO_OIDC):
        confidence = Confidence.LOW if not read else Confidence.MEDIUM
    elif not read:
        confidence = Confidence.MEDIUM
    return Finding(
        rule=RULE,
        location=workflow.location(credential.span),
        message=f"{opening}: {what}",
        key=f"{credential.key}/token-fallback",
        severity=severity,
        confidence=confidence,
        properties={"credential": credential.name, "oidc": use.order},
    )


def _consequence(use: OidcUse, token: str, hedge: str) -> tuple[Severity | None, str]:
    """The finding's severity (None: the rule's) and what the token does, in words."""
    if use.order == OIDC_FIRST:
        return None, (
            f"it tries OIDC first, so {token}, is only a fallback for a failed exchange"
            f"{hedge}: a long-lived credential that still publishes for whoever steals it. "
            f"Remove it, revoke it, and disallow tokens for the package"
        )
    if use.order == NO_OIDC:
        return Severity.ERROR, (
            f"it never tries OIDC, so `id-token: write` only signs provenance and {token}, "
            f"is what publishes{hedge}. Move to {use.upgrade} first, and remove the token "
            f"only then: removed first, it breaks the release"
        )
    if use.order == TOKEN_FIRST:
        return Severity.ERROR, (
            f"it uses a configured token before it tries OIDC, so {token}, is what "
            f"publishes{hedge} and OIDC goes unused. Remove the token, so that the publish "
            f"goes through OIDC"
        )
    return None, (
        f"if that is npm >= 11.5.1 (or a tool that exchanges OIDC itself), {token}, is a "
        f"dormant fallback that still publishes for whoever steals it{hedge}; with older npm "
        f"(Node 22 and below bundle npm 10) OIDC is never tried, `id-token: write` only "
        f"signs provenance and the token publishes. Check `npm --version` in the job"
    )
